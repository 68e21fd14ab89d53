using System.Diagnostics.CodeAnalysis;

namespace Podnet.Lab.Topology;

/// <summary>
/// A lab's name: 1–12 characters of a-z, 0-9 and '-'. Short enough that every namespace name
/// derived from it (<c>pn-NAME-fabric</c>) stays readable, and every interface name made from
/// it fits the kernel's 15 characters.
/// </summary>
public static class LabName
{
    public const string Default = "podnet";
    public const int MaxLength = 12;

    public static bool IsValid([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(name))
        {
            error = "a lab name must not be empty";
        }
        else if (name.Length > MaxLength)
        {
            error = $"lab name '{name}' is {name.Length} characters long; at most {MaxLength} are allowed";
        }
        else if (name.Any(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')))
        {
            error = $"lab name '{name}' may contain only a-z, 0-9 and '-'";
        }
        return error is null;
    }

    public static string Validate(string? name) =>
        IsValid(name, out var error) ? name : throw new ArgumentException(error);
}
