using System.Text.Json.Nodes;
using Podnet.ApiServer.Http;
using Podnet.ApiServer.Http.Proto;
using Podnet.ApiServer.Tests.Protobuf;

namespace Podnet.ApiServer.Tests.Fuzz;

/// <summary>
/// Protobuf bodies mutated at random (bytes flipped, cut, inserted, lengths made large) from
/// valid envelopes of every served kind with every field set: the decoder answers each with an
/// object, a 400 or a 415, never another exception (a 500) and never without end.
/// </summary>
public sealed class ProtobufFuzzTests
{
    [Fact]
    public void MutatedProtobufBodies_DecodeOrAreRefusedClearly()
    {
        var random = new Random(24);
        var seeds = ((IEnumerable<object[]>)ProtobufSchemaTests.ServedKinds()).Select(row => Encoded((string)row[0])).ToList();
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 20_000; i++)
        {
            var body = Mutate(seeds[random.Next(seeds.Count)], random);
            string outcome;
            try
            {
                Http.Protobuf.Decode(body);
                outcome = "decoded";
            }
            catch (ApiException e) when (e.Code is 400 or 415)
            {
                outcome = e.Code.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} ({Convert.ToHexString(body)}) threw {e}");
                return;
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        // Each outcome occurs: the mutations reach past the envelope.
        Assert.True(outcomes.Count == 3, string.Join(", ", outcomes.Select(p => $"{p.Key} {p.Value}")));
    }

    private static byte[] Encoded(string kind)
    {
        var slash = kind.LastIndexOf('/');
        var obj = new JsonObject { ["apiVersion"] = kind[..slash], ["kind"] = kind[(slash + 1)..] };
        foreach (var (k, v) in FullSamples.Of(ProtoSchema.Instance.Find(kind[..slash], kind[(slash + 1)..])!).ToList())
        {
            obj[k] = v?.DeepClone();
        }
        return Http.Protobuf.Encode(obj);
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = seed.ToList();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var at = random.Next(4, bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 16)));
                    break;
                case 2:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 3:
                    // A length or varint made huge.
                    bytes.InsertRange(at, [0xff, 0xff, 0xff, 0xff, 0x0f]);
                    break;
                default:
                    bytes[at] = (byte)random.Next(256);
                    break;
            }
            if (bytes.Count <= 5)
            {
                break;
            }
        }
        return [.. bytes];
    }
}
