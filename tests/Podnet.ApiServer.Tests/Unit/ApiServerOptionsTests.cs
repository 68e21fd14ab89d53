namespace Podnet.ApiServer.Tests.Unit;

public sealed class ApiServerOptionsTests
{
    [Theory]
    [InlineData("1m0s", 60_000)]
    [InlineData("60s", 60_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("500ms", 500)]
    [InlineData("1h2m3s", 3_723_000)]
    [InlineData("0", 0)]
    public void ParseDuration_TakesGoSyntax_AsKubeApiserversFlags(string text, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ApiServerOptions.ParseDuration(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("60")]
    [InlineData("5x")]
    [InlineData("-1s")]
    public void ParseDuration_Refuses_WhatIsNoDuration(string text)
    {
        Assert.Throws<FormatException>(() => ApiServerOptions.ParseDuration(text));
    }

    /// <summary>
    /// The NativeAOT server keeps its own list of the controllers it may start (it references no
    /// controller code); a controller missing there never runs in a lab, so the lists must match.
    /// </summary>
    [Fact]
    public void KnownControllers_AreTheControllerManagersNames()
    {
        Assert.Equal(Podnet.Controllers.Runtime.ControllerManager.AllNames, ApiServerOptions.KnownControllers);
    }
}
