using System.Text;
using k8s.Models;
using Podnet.Controllers.Deployments;

namespace Podnet.Controllers.Tests.Deployments;

public sealed class PodTemplateHashTests
{
    internal static V1PodTemplateSpec Template(string image = "web:1", params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Labels = (labels.Length > 0 ? labels : [("app", "web"), ("tier", "front")]).ToDictionary(l => l.Key, l => l.Value) },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = image }] },
    };

    [Theory]
    [InlineData("", 0x811c9dc5u)]
    [InlineData("a", 0xe40c292cu)]
    [InlineData("foobar", 0xbf9cf968u)]
    public void Fnv32a_KnownVectors(string text, uint expected) =>
        Assert.Equal(expected, PodTemplateHash.Fnv32a(Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("123", "567")]
    [InlineData("0", "4")]
    [InlineData("9", "f")]
    public void SafeEncode_MapsEachCharacterIntoTheAlphabet(string text, string expected) =>
        Assert.Equal(expected, PodTemplateHash.SafeEncode(text));

    [Fact]
    public void Compute_StableAcrossLabelOrderAndIgnoresItsOwnLabel()
    {
        var a = Template(labels: [("app", "web"), ("tier", "front")]);
        var b = Template(labels: [("tier", "front"), ("app", "web")]);
        var c = Template(labels: [("tier", "front"), ("app", "web"), ("pod-template-hash", "whatever")]);

        var hash = PodTemplateHash.Compute(a);

        Assert.Equal(hash, PodTemplateHash.Compute(b));
        Assert.Equal(hash, PodTemplateHash.Compute(c));
        Assert.True(PodTemplateHash.EqualIgnoringHash(a, c));
        Assert.All(hash, ch => Assert.Contains(ch, PodTemplateHash.Alphabet));
        Assert.InRange(hash.Length, 1, 10);
    }

    [Fact]
    public void Compute_ChangesWithTemplateAndCollisionCount()
    {
        var hash = PodTemplateHash.Compute(Template());
        Assert.NotEqual(hash, PodTemplateHash.Compute(Template("web:2")));
        Assert.NotEqual(hash, PodTemplateHash.Compute(Template(), 1));
        Assert.NotEqual(PodTemplateHash.Compute(Template(), 1), PodTemplateHash.Compute(Template(), 2));
        Assert.False(PodTemplateHash.EqualIgnoringHash(Template(), Template("web:2")));
    }

    [Fact]
    public void NameGenerator_FiveAlphabetCharacters_PrefixCutTo58()
    {
        var random = new Random(7);
        var name = NameGenerator.Generate("web-5d59d67564-", random);
        var longName = NameGenerator.Generate(new string('x', 70), random);

        Assert.StartsWith("web-5d59d67564-", name);
        Assert.Equal("web-5d59d67564-".Length + 5, name.Length);
        Assert.All(name[^5..], ch => Assert.Contains(ch, PodTemplateHash.Alphabet));
        Assert.Equal(63, longName.Length);
        Assert.NotEqual(NameGenerator.RandomSuffix(random), NameGenerator.RandomSuffix(random));
    }
}
