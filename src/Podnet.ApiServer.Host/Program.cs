namespace Podnet.ApiServer.Host;

/// <summary>
/// podnet-apiserver: the API server as a NativeAOT binary. `podnet server ARGS` becomes
/// `podnet-apiserver ARGS` (execv, same pid), so a server is 60 MB of memory rather than the
/// 130 MB of the JIT runtime with its assemblies, and spends half the CPU per request
/// (bench/apiserver).
/// </summary>
internal static class Program
{
    private static int Main(string[] args) => ServerCommand.Create().Parse(args).Invoke();
}
