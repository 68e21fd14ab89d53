namespace Podnet.Cni;

internal static class Program
{
    private static int Main()
    {
        // Placeholder until the plugin lands: answers every command with the spec's error shape.
        Console.Out.Write("{\"cniVersion\":\"1.1.0\",\"code\":4,\"msg\":\"podnet-cni is not built yet\"}");
        return 1;
    }
}
