using System.Text.Json;
using Podnet.Cni.Commands;
using Podnet.Cni.Config;
using Podnet.Cni.Spec;
using Podnet.Kernel;

namespace Podnet.Cni;

/// <summary>
/// Entry point of podnet-cni, and of podnet-ipam (the same binary under that name). The one
/// place where failures become the spec's error JSON on stdout with a non-zero exit.
/// </summary>
internal static class Program
{
    public const string IpamName = "podnet-ipam";

    private static int Main()
    {
        string? version = null;
        try
        {
            // stdin first, whatever the environment says: a runtime that writes the configuration
            // after starting the plugin must not find the pipe closed (EPIPE) because the plugin
            // rejected CNI_* and exited first, and the error then carries the configuration's version.
            var stdin = ReadStdin();
            version = PeekVersion(stdin);
            var env = CniEnvironment.Read(Environment.GetEnvironmentVariable);
            var output = env.Command == "VERSION"
                ? VersionAnswer(version)
                : IsIpamName() ? new IpamPlugin(env, stdin).Run() : new BridgePlugin(env, stdin, Environment.GetEnvironmentVariable).Run();
            if (output is not null)
            {
                Write(StandardStreams.Output, output);
            }
            return 0;
        }
        catch (Exception e)
        {
            var error = ToError(e);
            error.CniVersion = CniVersion.IsSupported(version) ? version! : CniVersion.Current;
            Write(StandardStreams.Output, CniJson.Write(error));
            Write(StandardStreams.Error, $"{(IsIpamName() ? IpamName : "podnet-cni")}: {(e is CniException ? e.Message : e.ToString())}\n");
            return 1;
        }
    }

    private static bool IsIpamName() =>
        Path.GetFileName(Environment.GetCommandLineArgs()[0]) == IpamName;

    /// <summary>Maps every failure to a code: CniException keeps its own, the rest by kind.</summary>
    internal static CniError ToError(Exception e) => e switch
    {
        CniException c => new CniError { Code = c.Code, Msg = c.Message, Details = c.Details },
        JsonException j => new CniError { Code = CniErrorCode.DecodeFailure, Msg = $"cannot decode the configuration: {j.Message}" },
        TimeoutException t => new CniError { Code = CniErrorCode.TryAgainLater, Msg = t.Message },
        // Its message is a bare resource key in the trimmed binary.
        PathTooLongException => new CniError { Code = CniErrorCode.IoFailure, Msg = "a path made from the configuration is too long for the filesystem (at most 255 bytes a name, 4095 a path)" },
        IOException or UnauthorizedAccessException => new CniError { Code = CniErrorCode.IoFailure, Msg = e.Message },
        KernelException k => new CniError { Code = CniErrorCode.Internal, Msg = k.Message },
        NftException n => new CniError { Code = CniErrorCode.Internal, Msg = n.Message },
        _ => new CniError { Code = CniErrorCode.Internal, Msg = $"{e.GetType().Name}: {e.Message}" },
    };

    private static string VersionAnswer(string? requested) => CniJson.Write(
        new CniVersionInfo { CniVersion = requested ?? CniVersion.Current, SupportedVersions = [.. CniVersion.Supported] });

    /// <summary>The configuration's cniVersion, if stdin is JSON with one (for VERSION and for error answers).</summary>
    private static string? PeekVersion(string stdin)
    {
        try
        {
            using var doc = JsonDocument.Parse(stdin);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("cniVersion", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: an unpaired surrogate escape, found when the text is read.
            return null;
        }
    }

    /// <summary>
    /// stdin as UTF-8, through a plain file stream rather than Console's (which sets up the
    /// terminal; a FileStream reads a redirected file from its current offset, as a runtime expects).
    /// </summary>
    private static string ReadStdin()
    {
        using var reader = new StreamReader(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0), System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>With write(2), not Console's stream: see <see cref="StandardStreams"/>.</summary>
    private static void Write(int fd, string text) => StandardStreams.Write(fd, System.Text.Encoding.UTF8.GetBytes(text));
}
