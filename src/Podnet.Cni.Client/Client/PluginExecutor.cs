using System.Diagnostics;
using System.Text.Json;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Client;

/// <summary>
/// Runs one CNI plugin binary per the execution protocol: CNI_* in the environment, the config
/// on stdin, the result or the error JSON on stdout; stderr goes to our stderr.
/// </summary>
public static class PluginExecutor
{
    /// <summary>The first <paramref name="type"/> binary in <paramref name="paths"/>, or code 7 naming where it looked.</summary>
    public static string Find(string type, IReadOnlyList<string> paths)
    {
        if (type.Length == 0 || type.Contains('/'))
        {
            throw new CniException(CniErrorCode.InvalidConfig, $"plugin type '{type}' must be a plain file name");
        }
        foreach (var dir in paths)
        {
            var candidate = Path.Combine(dir, type);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new CniException(CniErrorCode.InvalidConfig, $"plugin {type} not found in CNI_PATH ({string.Join(":", paths)})");
    }

    /// <summary>
    /// Runs <paramref name="binary"/>; returns its stdout on success and throws a
    /// <see cref="CniException"/> carrying the plugin's own code and message on failure.
    /// </summary>
    public static string Run(string binary, IReadOnlyDictionary<string, string?> environment, string stdin, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info) ?? throw new CniException(CniErrorCode.Internal, $"could not start {binary}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new CniException(CniErrorCode.TryAgainLater, $"{binary} {environment.GetValueOrDefault("CNI_COMMAND")} did not finish in time");
        }
        process.WaitForExit();
        var output = stdout.Result;
        if (process.ExitCode == 0)
        {
            return output;
        }
        throw FromOutput(binary, process.ExitCode, output);
    }

    private static CniException FromOutput(string binary, int exitCode, string output)
    {
        var name = Path.GetFileName(binary);
        try
        {
            using var document = JsonDocument.Parse(output);
            var error = CniJson.ReadError(document.RootElement);
            if (error.Code != 0 || error.Msg.Length > 0)
            {
                return new CniException(error.Code, $"{name}: {error.Msg}", error.Details);
            }
        }
        catch (JsonException)
        {
        }
        return new CniException(CniErrorCode.Internal, $"{name} failed with exit code {exitCode} and no error JSON: {output.Trim()}");
    }
}
