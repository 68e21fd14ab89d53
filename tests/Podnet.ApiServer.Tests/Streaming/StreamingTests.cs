using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Streaming;

namespace Podnet.ApiServer.Tests.Streaming;

public sealed class StreamingTests
{
    [Theory]
    [InlineData("v4.channel.k8s.io, v5.channel.k8s.io", "v5.channel.k8s.io")]
    [InlineData("channel.k8s.io,v4.channel.k8s.io", "v4.channel.k8s.io")]
    [InlineData("base64.channel.k8s.io", null)]
    [InlineData("SPDY/3.1+portforward.k8s.io", null)]
    public void Choose_PrefersV5_ThenV4_ElseNone(string offered, string? expected) =>
        Assert.Equal(expected, ChannelProtocol.Choose([offered]));

    [Fact]
    public void ParseResize_ReadsWidthAndHeight_RejectsWhatIsNotASize()
    {
        Assert.Equal(new TerminalSize(120, 40), ChannelProtocol.ParseResize("""{"Width":120,"Height":40}"""u8));
        Assert.Equal(new TerminalSize(80, 24), ChannelProtocol.ParseResize(ChannelProtocol.FormatResize(new TerminalSize(80, 24))));
        Assert.Contains("Height", Assert.Throws<FormatException>(() => ChannelProtocol.ParseResize("""{"Width":1}"""u8)).Message);
        Assert.Contains("Width", Assert.Throws<FormatException>(() => ChannelProtocol.ParseResize("""{"Width":70000,"Height":1}"""u8)).Message);
        Assert.Contains("not JSON", Assert.Throws<FormatException>(() => ChannelProtocol.ParseResize("{"u8)).Message);
        Assert.Contains("256", Assert.Throws<FormatException>(() => ChannelProtocol.ParseResize(new byte[300])).Message);
    }

    [Fact]
    public void Status_CarriesTheExitCode_AsKubeletSendsIt_AndReadsBack()
    {
        var json = StreamStatus.Exited(3).ToJson();
        Assert.Equal("Failure", (string?)json["status"]);
        Assert.Equal("NonZeroExitCode", (string?)json["reason"]);
        Assert.Equal("ExitCode", (string?)json["details"]!["causes"]![0]!["reason"]);
        Assert.Equal("3", (string?)json["details"]!["causes"]![0]!["message"]);
        Assert.Equal(3, StreamStatus.FromJson(json.ToJsonString()).ExitCode);
        Assert.Equal("Success", (string?)StreamStatus.Exited(0).ToJson()["status"]);
        Assert.True(StreamStatus.FromJson("""{"metadata":{},"status":"Success"}""").Success);
        var error = StreamStatus.FromJson("""{"status":"Failure","reason":"InternalError","message":"no such container"}""");
        Assert.False(error.Success);
        Assert.Null(error.ExitCode);
        Assert.Equal("no such container", error.Message);
        Assert.Equal("not json", StreamStatus.FromJson("not json").Message);
    }

    [Fact]
    public void PodLogOptions_Parses_AndAnswersBadValuesAsKubeApiserver()
    {
        var query = new Dictionary<string, string> { ["follow"] = "true", ["tailLines"] = "5", ["timestamps"] = "1", ["sinceSeconds"] = "60", ["limitBytes"] = "100", ["previous"] = "false" };
        var options = PodLogOptions.Parse("web", q => query.GetValueOrDefault(q));
        Assert.Equal(new PodLogOptions(null, true, false, true, 60, null, 5, 100), options);
        Assert.Equal("follow=true&timestamps=true&sinceSeconds=60&tailLines=5&limitBytes=100", options.ToQuery());

        var invalid = Assert.Throws<ApiException>(() => PodLogOptions.Parse("web", q => q switch { "tailLines" => "-1", "limitBytes" => "0", _ => null }));
        Assert.Equal(422, invalid.Code);
        Assert.Equal("Invalid", invalid.Reason);
        var causes = (JsonArray)invalid.ToStatus()["details"]!["causes"]!;
        Assert.Equal(["tailLines", "limitBytes"], causes.Select(c => (string?)c!["field"]));
        Assert.StartsWith("PodLogOptions \"web\" is invalid", invalid.Message);

        Assert.Equal(422, Assert.Throws<ApiException>(() => PodLogOptions.Parse("web", q => q switch { "sinceSeconds" => "5", "sinceTime" => "2026-01-01T00:00:00Z", _ => null })).Code);
        var malformed = Assert.Throws<ApiException>(() => PodLogOptions.Parse("web", q => q == "tailLines" ? "ten" : null));
        Assert.Equal(400, malformed.Code);
        Assert.Contains("tailLines", malformed.Message);
        Assert.Equal(400, Assert.Throws<ApiException>(() => PodLogOptions.Parse("web", q => q == "follow" ? "yes" : null)).Code);
    }

    [Fact]
    public void ExecQuery_NeedsAStreamAndACommand()
    {
        static QueryCollection Query(params (string, string[])[] items) => new(items.ToDictionary(i => i.Item1, i => new StringValues(i.Item2)));
        var request = ApiHandler.ExecRequestOf(StreamVerb.Exec, "default", "web", Query(("command", ["sh", "-c", "exit 3"]), ("stdout", ["true"]), ("stderr", ["true"]), ("container", ["c"])));
        Assert.Equal(["sh", "-c", "exit 3"], request.Command);
        Assert.Equal("c", request.Container);
        Assert.True(request.Stdout && request.Stderr && !request.Stdin && !request.Tty);
        Assert.Contains("at least 1 of stdin, stdout, stderr", Assert.Throws<ApiException>(() => ApiHandler.ExecRequestOf(StreamVerb.Exec, "default", "web", Query(("command", ["true"])))).Message);
        Assert.Contains("at least one command", Assert.Throws<ApiException>(() => ApiHandler.ExecRequestOf(StreamVerb.Exec, "default", "web", Query(("stdout", ["1"])))).Message);
        Assert.Empty(ApiHandler.ExecRequestOf(StreamVerb.Attach, "default", "web", Query(("stdout", ["1"]))).Command);
        Assert.Equal(400, Assert.Throws<ApiException>(() => ApiHandler.ExecRequestOf(StreamVerb.Exec, "default", "web", Query(("command", ["x"]), ("tty", ["maybe"])))).Code);
    }

    [Fact]
    public async Task Session_DemultiplexesStdinAndResize_FramesOutput_EndsWithTheStatus()
    {
        var (server, client) = await ConnectedPairAsync();
        using (server)
        using (client)
        {
            var session = new WebSocketExecSession(server, new ExecRequest(StreamVerb.Exec, "default", "web", "c", ["cat"], true, true, true, true));
            Assert.Null(session.Stderr); // a TTY has one output
            await client.SendAsync(ChannelProtocol.Frame(ChannelProtocol.Resize, """{"Width":100,"Height":30}"""u8), WebSocketMessageType.Binary, true, default);
            await client.SendAsync(ChannelProtocol.Frame(ChannelProtocol.Stdin, "hello "u8), WebSocketMessageType.Binary, true, default);
            await client.SendAsync(ChannelProtocol.Frame(ChannelProtocol.Stdin, "world"u8), WebSocketMessageType.Binary, true, default);
            await client.SendAsync(new byte[] { ChannelProtocol.Close, ChannelProtocol.Stdin }, WebSocketMessageType.Binary, true, default);
            Assert.Equal(new TerminalSize(100, 30), await session.Resize!.ReadAsync());
            Assert.Equal("hello world", await new StreamReader(session.Stdin!).ReadToEndAsync()); // ends at v5's close of channel 0
            await session.Stdout!.WriteAsync("out"u8.ToArray());
            var completing = session.CompleteAsync(StreamStatus.Exited(7), default).AsTask();
            var (channel, data) = await ReceiveAsync(client);
            Assert.Equal((ChannelProtocol.Stdout, "out"), (channel, Encoding.UTF8.GetString(data)));
            (channel, data) = await ReceiveAsync(client);
            Assert.Equal(ChannelProtocol.Error, channel);
            Assert.Equal(7, StreamStatus.FromJson(Encoding.UTF8.GetString(data)).ExitCode);
            var close = await client.ReceiveAsync(new byte[16], default);
            Assert.Equal(WebSocketMessageType.Close, close.MessageType);
            await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default);
            await completing;
            Assert.False(session.ClientGone.IsCancellationRequested);
            await session.DisposeAsync();
        }
    }

    [Fact]
    public async Task Session_ClientGoingAway_EndsStdin_AndSignalsIt()
    {
        var (server, client) = await ConnectedPairAsync();
        using (server)
        {
            var session = new WebSocketExecSession(server, new ExecRequest(StreamVerb.Exec, "default", "web", "c", ["cat"], true, true, true, false));
            Assert.NotNull(session.Stderr);
            Assert.Null(session.Resize);
            client.Abort();
            client.Dispose();
            Assert.Equal("", await new StreamReader(session.Stdin!).ReadToEndAsync());
            await Task.Delay(Timeout.Infinite, session.ClientGone).ContinueWith(_ => { });
            Assert.True(session.ClientGone.IsCancellationRequested);
            await session.DisposeAsync();
        }
    }

    private static async Task<(byte Channel, byte[] Data)> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[4096];
        var result = await socket.ReceiveAsync(buffer, default);
        Assert.True(result.EndOfMessage);
        Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
        return (buffer[0], buffer[1..result.Count]);
    }

    /// <summary>Two WebSockets over a loopback TCP connection (server and client roles).</summary>
    private static async Task<(WebSocket Server, WebSocket Client)> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptTcpClientAsync();
        var connecting = new TcpClient();
        await connecting.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var accepted = await accepting;
        var server = WebSocket.CreateFromStream(accepted.GetStream(), new WebSocketCreationOptions { IsServer = true, SubProtocol = ChannelProtocol.V5 });
        var client = WebSocket.CreateFromStream(connecting.GetStream(), new WebSocketCreationOptions { IsServer = false, SubProtocol = ChannelProtocol.V5 });
        return (server, client);
    }
}
