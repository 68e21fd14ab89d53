using System.Net;
using Podnet.TestServer;

namespace Podnet.Agent.Tests;

public sealed class NetexecProtocolTests
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("10.244.2.7"), 40123);
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 15, 4, 5, TimeSpan.Zero);

    [Theory]
    [InlineData("/hostname", 200, "web-1")]
    [InlineData("/clientip", 200, "10.244.2.7:40123")]
    [InlineData("/echo?msg=hello", 200, "hello")]
    [InlineData("/echo?msg=hello%20world&x=1", 200, "hello world")]
    [InlineData("/echo?x=1&msg=a+b", 200, "a b")]
    [InlineData("/echo", 200, "")]
    [InlineData("/", 200, "NOW: 2026-11-26 15:04:05.0000000 +00:00")]
    [InlineData("/nope", 404, "404 page not found\n")]
    public void Http_AnswersLikeNetexec(string target, int status, string body) =>
        Assert.Equal((status, body), NetexecProtocol.Http(target, "web-1", Client, Now));

    [Theory]
    [InlineData("hostname", "web-1")]
    [InlineData("hostname\n", "web-1")]
    [InlineData("echo hi there", "hi there")]
    [InlineData("clientip", "10.244.2.7:40123")]
    [InlineData("anything else", "web-1")]
    [InlineData("", "web-1")]
    public void Udp_AnswersLikeNetexec(string payload, string answer) =>
        Assert.Equal(answer, NetexecProtocol.Udp(payload, "web-1", Client));

    [Fact]
    public void Format_ShowsMappedIpv4AsIpv4_AndIpv6InBrackets()
    {
        Assert.Equal("10.0.0.1:80", NetexecProtocol.Format(new IPEndPoint(IPAddress.Parse("::ffff:10.0.0.1"), 80)));
        Assert.Equal("[fd00::1]:80", NetexecProtocol.Format(new IPEndPoint(IPAddress.Parse("fd00::1"), 80)));
    }
}
