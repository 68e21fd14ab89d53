using Podnet.Core.Net;

namespace Podnet.Core.Tests.Net;

public sealed class LinkNamesTests
{
    [Fact]
    public void Derive_IsStable_FitsTheKernelLimit_AndKeepsThePrefix()
    {
        var a = LinkNames.Derive("veth", "podnet/default/web-7d9f8c6b5-x2x9z/eth0");
        Assert.Equal(a, LinkNames.Derive("veth", "podnet/default/web-7d9f8c6b5-x2x9z/eth0"));
        Assert.Equal(15, a.Length);
        Assert.StartsWith("veth", a);
        Assert.True(LinkNames.IsValid(a));
    }

    [Fact]
    public void Derive_DistinctKeys_GiveDistinctNames()
    {
        var names = Enumerable.Range(0, 10_000).Select(i => LinkNames.Derive("pn", $"container-{i}")).ToHashSet();
        Assert.Equal(10_000, names.Count);
    }

    [Fact]
    public void Derive_RefusesAPrefixThatLeavesNoRoom() =>
        Assert.Throws<ArgumentException>(() => LinkNames.Derive("a-very-long-pre", "x"));

    [Theory]
    [InlineData("eth0", true)]
    [InlineData("pn-podnet-n1ab", true)]
    [InlineData("exactly15chars_", true)]
    [InlineData("sixteen_chars_xx", false)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    [InlineData("a:b", false)]
    [InlineData("a b", false)]
    [InlineData("..", false)]
    public void IsValid_FollowsTheKernelRules(string name, bool expected) =>
        Assert.Equal(expected, LinkNames.IsValid(name));
}
