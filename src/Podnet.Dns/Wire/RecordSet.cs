using System.Buffers.Binary;

namespace Podnet.Dns.Wire;

/// <summary>
/// A prebuilt run of resource records sharing one owner, in wire form without the owner: each
/// record's type, class, TTL, RDLENGTH and RDATA, back to back. The owner is written as a
/// compression pointer when the set is copied into a response (usually to the question's name
/// at offset 12), so one set serves every spelling of the name a query may use.
/// </summary>
/// <remarks>
/// RDATA names (SRV, PTR and CNAME targets, SOA names) are stored uncompressed: RFC 2782 asks
/// that SRV targets not be compressed, and the others rarely share a suffix with the question.
/// <see cref="Additional"/> holds records whose owner is the target of an answer record (the
/// A/AAAA of SRV targets); <see cref="AdditionalOwners"/> says which answer record's target.
/// </remarks>
public sealed class RecordSet
{
    public RecordSet(byte[] data, int[] ends, RecordSet? additional = null, int[]? additionalOwners = null)
    {
        Data = data;
        Ends = ends;
        Additional = additional;
        AdditionalOwners = additionalOwners;
    }

    public byte[] Data { get; }

    /// <summary>Where each record's body ends in <see cref="Data"/>.</summary>
    public int[] Ends { get; }

    public int Count => Ends.Length;

    public RecordSet? Additional { get; }

    public int[]? AdditionalOwners { get; }

    public int Start(int index) => index == 0 ? 0 : Ends[index - 1];

    public ReadOnlySpan<byte> Body(int index) => Data.AsSpan(Start(index), Ends[index] - Start(index));

    /// <summary>The RDATA of record <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> RData(int index) => Body(index)[Limits.RecordFixedLength..];

    public ushort Type(int index) => BinaryPrimitives.ReadUInt16BigEndian(Body(index));
}

/// <summary>Collects record bodies into a <see cref="RecordSet"/>.</summary>
public sealed class RecordSetBuilder
{
    private readonly List<byte> _data = [];
    private readonly List<int> _ends = [];
    private readonly List<int> _owners = [];
    private RecordSetBuilder? _additional;

    public int Count => _ends.Count;

    public void Add(ushort type, uint ttl, ReadOnlySpan<byte> rdata)
    {
        Span<byte> fixedPart = stackalloc byte[Limits.RecordFixedLength];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, type);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], RecordClass.In);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], ttl);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[8..], checked((ushort)rdata.Length));
        _data.AddRange(fixedPart);
        _data.AddRange(rdata);
        _ends.Add(_data.Count);
    }

    /// <summary>Adds an additional-section record owned by the target of answer record <paramref name="owner"/>.</summary>
    public void AddAdditional(int owner, ushort type, uint ttl, ReadOnlySpan<byte> rdata)
    {
        _additional ??= new RecordSetBuilder();
        _additional.Add(type, ttl, rdata);
        _owners.Add(owner);
    }

    public RecordSet Build() => new([.. _data], [.. _ends], _additional?.Build(), _additional is null ? null : [.. _owners]);
}
