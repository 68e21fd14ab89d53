using System.Runtime.InteropServices;
using Podnet.TestServer;

// podnet-serve --pods-dir DIR: serves every pod listed in DIR (one JSON file per pod, written
// by the node's agent) until SIGTERM or SIGINT, as `podnet serve --pods-dir DIR` does.
if (args is not ["--pods-dir", { Length: > 0 } directory])
{
    Console.Error.WriteLine("usage: podnet-serve --pods-dir DIR");
    return 2;
}
await using var pods = new TestServerHost();
using var stopping = new CancellationTokenSource();
using var termination = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopping.Cancel(); });
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopping.Cancel(); });
await new PodServerDirectory(directory, pods, line => Console.Error.WriteLine($"podnet-serve: {line}")).RunAsync(stopping.Token);
return 0;
