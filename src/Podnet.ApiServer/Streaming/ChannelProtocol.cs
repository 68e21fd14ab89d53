using System.Text;
using System.Text.Json;

namespace Podnet.ApiServer.Streaming;

/// <summary>
/// The Kubernetes WebSocket channel protocols for exec and attach (v4.channel.k8s.io,
/// v5.channel.k8s.io): every binary message is one channel byte and that channel's data.
/// Channels: 0 stdin, 1 stdout, 2 stderr, 3 error (a metav1.Status as JSON, once, at the end),
/// 4 resize ({"Width":W,"Height":H}); v5 adds 255 close, whose data is the channel being
/// closed (the client's "end of stdin").
/// </summary>
public static class ChannelProtocol
{
    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";

    public const byte Stdin = 0;
    public const byte Stdout = 1;
    public const byte Stderr = 2;
    public const byte Error = 3;
    public const byte Resize = 4;
    public const byte Close = 255;

    /// <summary>Largest message read from a peer: kubectl sends stdin in 32 KiB pieces; this bounds a bad one.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    /// <summary>The protocol to answer with, from what the client offers (Sec-WebSocket-Protocol): v5 first, then v4; null when neither.</summary>
    public static string? Choose(IEnumerable<string> offered)
    {
        var protocols = offered.SelectMany(o => o.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);
        return protocols.Contains(V5) ? V5 : protocols.Contains(V4) ? V4 : null;
    }

    public static byte[] Frame(byte channel, ReadOnlySpan<byte> data)
    {
        var frame = new byte[data.Length + 1];
        frame[0] = channel;
        data.CopyTo(frame.AsSpan(1));
        return frame;
    }

    /// <summary>Parses a resize message; throws FormatException naming what is wrong.</summary>
    public static TerminalSize ParseResize(ReadOnlySpan<byte> json)
    {
        if (json.Length > 256)
        {
            throw new FormatException($"resize message of {json.Length} bytes (at most 256)");
        }
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("resize message is not a JSON object");
            }
            ushort Dimension(string name) =>
                root.TryGetProperty(name, out var value) && value.TryGetUInt16(out var n) ? n
                    : throw new FormatException($"resize message: {name} must be a number 0-65535");
            return new TerminalSize(Dimension("Width"), Dimension("Height"));
        }
        catch (JsonException e)
        {
            throw new FormatException($"resize message is not JSON: {e.Message}");
        }
    }

    public static byte[] FormatResize(TerminalSize size) =>
        Encoding.ASCII.GetBytes($"{{\"Width\":{size.Width},\"Height\":{size.Height}}}");
}
