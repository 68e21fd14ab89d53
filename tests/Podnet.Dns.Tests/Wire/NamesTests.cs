using Podnet.Dns.Wire;

namespace Podnet.Dns.Tests.Wire;

public class NamesTests
{
    [Theory]
    [InlineData("", "00")]
    [InlineData(".", "00")]
    [InlineData("a", "016100")]
    [InlineData("ab.c.", "0261620163" + "00")]
    [InlineData("Web.ns", "03576562026E7300")]
    public void TryEncode_ValidNames(string dotted, string hex)
    {
        Assert.True(Names.TryEncode(dotted, out var wire));
        Assert.Equal(hex, Convert.ToHexString(wire));
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a b")]
    [InlineData("caf\u00e9")]
    [InlineData("..")]
    public void TryEncode_InvalidNames(string dotted)
    {
        Assert.False(Names.TryEncode(dotted, out _));
        Assert.Throws<FormatException>(() => Names.Encode(dotted));
    }

    [Fact]
    public void TryEncode_Bounds_63PerLabel_253InAll()
    {
        Assert.True(Names.TryEncode(new string('a', 63), out _));
        Assert.False(Names.TryEncode(new string('a', 64), out _));
        var longest = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);
        Assert.Equal(253, longest.Length);
        Assert.True(Names.TryEncode(longest, out var wire));
        Assert.Equal(255, wire.Length);
        Assert.False(Names.TryEncode(longest + "b", out _));
    }

    [Fact]
    public void ToKey_LowerCasesAndMarksWhatNoKeyHas()
    {
        var key = new char[255];
        var wire = Names.Encode("Web.Default.SVC");
        Assert.Equal("web.default.svc", new string(key, 0, Names.ToKey(wire, key)));
        wire[2] = (byte)' ';
        Assert.Equal(-1, Names.ToKey(wire, key));
        var length = Names.ToKey(wire, key, out var exact);
        Assert.False(exact);
        Assert.Equal("w\u0001b.default.svc", new string(key, 0, length));
    }
}
