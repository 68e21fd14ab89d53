using System.Text.Json.Nodes;
using Podnet.ApiServer.Validation;

namespace Podnet.ApiServer.Tests.CustomResources;

/// <summary>The CEL subset x-kubernetes-validations rules are evaluated with, and what it refuses to compile.</summary>
public sealed class CelSubsetTests
{
    [Theory]
    [InlineData("self.start < self.end", """{"start": 1, "end": 2}""", true)]
    [InlineData("self.start < self.end", """{"start": 2, "end": 2}""", false)]
    [InlineData("self.start <= self.end && self.end <= 65535", """{"start": 2, "end": 2}""", true)]
    [InlineData("self.a.b == 'x' || self.c != 3", """{"a": {"b": "y"}, "c": 3}""", false)]
    [InlineData("!(self.a >= 10)", """{"a": 9}""", true)]
    [InlineData("size(self.list) > 1 && size(self.name) == 2", """{"list": [1, 2], "name": "ab"}""", true)]
    [InlineData("!has(self.x) || self.x > 0", """{}""", true)]
    [InlineData("!has(self.x) || self.x > 0", """{"x": 0}""", false)]
    [InlineData("has(self.a.b)", """{"a": {}}""", false)]
    [InlineData("isCIDR(self)", "\"192.168.0.1/24\"", true)]
    [InlineData("isCIDR(self)", "\"fd00::/128\"", true)]
    [InlineData("isCIDR(self)", "\"10.0.0.0/33\"", false)]
    [InlineData("isCIDR(self)", "\"10.0.0.0/08\"", false)]
    [InlineData("isCIDR(self)", "\"010.0.0.0/8\"", false)]
    [InlineData("isCIDR(self)", "\"10.0.0/8\"", false)]
    [InlineData("isCIDR(self)", "\"fe80::1%eth0/64\"", false)]
    [InlineData("isCIDR(self)", "\"10.0.0.0\"", false)]
    public void Evaluate_GivesTheRulesValue(string rule, string self, bool expected)
    {
        var compiled = CelSubset.TryCompile(rule);
        Assert.NotNull(compiled);
        Assert.Equal(expected, compiled.Evaluate(JsonNode.Parse(self)));
    }

    [Theory]
    [InlineData("self.start < self.end", """{"start": 1}""")]
    [InlineData("self.a < 'x'", """{"a": 1}""")]
    [InlineData("isCIDR(self)", "3")]
    public void Evaluate_AnErrorIsNoVerdict(string rule, string self) =>
        Assert.Null(CelSubset.TryCompile(rule)!.Evaluate(JsonNode.Parse(self)));

    [Theory]
    [InlineData("self.name.startsWith('a')")]
    [InlineData("self.all(x, x > 0)")]
    [InlineData("self.a + 1 > 2")]
    [InlineData("self.a < ")]
    [InlineData("oldSelf == self")]
    [InlineData("'unterminated")]
    [InlineData("self.a in ['x']")]
    public void TryCompile_OutsideTheSubset_IsNull(string rule) => Assert.Null(CelSubset.TryCompile(rule));

    [Fact]
    public void TryCompile_NestingAndLength_AreBounded()
    {
        Assert.Null(CelSubset.TryCompile(new string('(', 100) + "true" + new string(')', 100)));
        Assert.Null(CelSubset.TryCompile("self.a < 1 && " + string.Concat(Enumerable.Repeat("self.a < 1 && ", 100)) + "true"));
        Assert.NotNull(CelSubset.TryCompile(new string('(', 10) + "true" + new string(')', 10)));
    }
}
