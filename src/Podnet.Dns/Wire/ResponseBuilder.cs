using System.Buffers.Binary;

namespace Podnet.Dns.Wire;

/// <summary>
/// Writes a response into a caller's buffer: header, the echoed question, then answer,
/// authority and additional records in that order; <see cref="Finish"/> fits it to the size
/// the transport allows and appends OPT. Allocation-free: owners are compression pointers and
/// prebuilt record bodies are copied.
/// </summary>
/// <remarks>
/// Fitting follows RFC 2181 9: additional records are dropped first (they are optional); if the
/// answer and authority still do not fit, the response goes out with TC set and no records, and
/// the client asks again over TCP. A buffer overflow while writing is handled the same way.
/// </remarks>
public ref struct ResponseBuilder
{
    private readonly Span<byte> _buffer;
    private int _position;
    private int _questionEnd;
    private int _answerEnd;
    private int _authorityEnd;
    private int _section;
    private ushort _answers;
    private ushort _authority;
    private ushort _additional;
    private ushort _flags;
    private int _rcode;
    private bool _overflow;
    private int _overflowSection;

    public ResponseBuilder(Span<byte> buffer)
    {
        _buffer = buffer;
    }

    public readonly int Rcode => _rcode;

    public readonly int Position => _position;

    public readonly int AnswerCount => _answers;

    /// <summary>Writes the header and, when the query has one, the question as it was asked.</summary>
    public void Start(in Query query, scoped ReadOnlySpan<byte> name)
    {
        _flags = (ushort)(HeaderFlags.Response | (query.Flags & (0x7800 | HeaderFlags.RecursionDesired | HeaderFlags.CheckingDisabled)));
        BinaryPrimitives.WriteUInt16BigEndian(_buffer, query.Id);
        _position = Limits.HeaderLength;
        if (query.NameLength > 0)
        {
            name[..query.NameLength].CopyTo(_buffer[_position..]);
            _position += query.NameLength;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], query.Type);
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_position + 2)..], query.Class);
            _position += 4;
        }
        _questionEnd = _answerEnd = _authorityEnd = _position;
        _section = 0;
        _answers = _authority = _additional = 0;
        _rcode = 0;
        _overflow = false;
    }

    public void SetRcode(int rcode) => _rcode = rcode;

    public void SetFlags(ushort flags) => _flags |= flags;

    public void BeginAuthority()
    {
        _answerEnd = _position;
        _section = 1;
    }

    public void BeginAdditional()
    {
        if (_section == 0)
        {
            _answerEnd = _position;
        }
        _authorityEnd = _position;
        _section = 2;
    }

    /// <summary>Copies every record of <paramref name="set"/> with its owner a pointer to <paramref name="owner"/>; returns where the set starts.</summary>
    public int WriteSet(RecordSet set, int owner)
    {
        var start = _position;
        for (var i = 0; i < set.Count; i++)
        {
            WriteRecord(owner, set.Body(i));
        }
        return start;
    }

    /// <summary>
    /// Writes the additional records of an answer set written at <paramref name="setStart"/>;
    /// a record whose owner would lie past a pointer's 14-bit reach is left out (it is optional).
    /// </summary>
    public void WriteAdditional(RecordSet set, int setStart)
    {
        if (set.Additional is not { } additional || set.AdditionalOwners is not { } owners)
        {
            return;
        }
        for (var i = 0; i < additional.Count; i++)
        {
            var k = owners[i];
            // The target of SRV record k: past its owner pointer, fixed part, priority, weight, port.
            var target = setStart + (2 * k) + set.Start(k) + 2 + Limits.RecordFixedLength + 6;
            if (target <= Limits.MaxPointerOffset)
            {
                WriteRecord(target, additional.Body(i));
            }
        }
    }

    /// <summary>Writes one record whose owner is a pointer to <paramref name="owner"/> and whose body (type to RDATA) is given.</summary>
    public void WriteRecord(int owner, scoped ReadOnlySpan<byte> body)
    {
        if (_overflow || _position + 2 + body.Length > _buffer.Length)
        {
            Overflow();
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], (ushort)(0xC000 | owner));
        body.CopyTo(_buffer[(_position + 2)..]);
        _position += 2 + body.Length;
        Count();
    }

    /// <summary>Writes one record from its parts, the owner a pointer.</summary>
    public void WriteRecord(int owner, ushort type, uint ttl, scoped ReadOnlySpan<byte> rdata)
    {
        Span<byte> body = stackalloc byte[Limits.RecordFixedLength + 16];
        if (rdata.Length > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(rdata), "inline records carry addresses only");
        }
        BinaryPrimitives.WriteUInt16BigEndian(body, type);
        BinaryPrimitives.WriteUInt16BigEndian(body[2..], RecordClass.In);
        BinaryPrimitives.WriteUInt32BigEndian(body[4..], ttl);
        BinaryPrimitives.WriteUInt16BigEndian(body[8..], (ushort)rdata.Length);
        rdata.CopyTo(body[Limits.RecordFixedLength..]);
        WriteRecord(owner, body[..(Limits.RecordFixedLength + rdata.Length)]);
    }

    /// <summary>Appends complete records (owner included, no pointers into other messages) in the current section.</summary>
    public void WriteRaw(scoped ReadOnlySpan<byte> records, int count)
    {
        if (_overflow || _position + records.Length > _buffer.Length)
        {
            Overflow();
            return;
        }
        records.CopyTo(_buffer[_position..]);
        _position += records.Length;
        for (var i = 0; i < count; i++)
        {
            Count();
        }
    }

    /// <summary>
    /// Fits the response into <paramref name="limit"/> octets, appends OPT when the query had
    /// EDNS, writes the header's flags and counts; returns the response's length.
    /// </summary>
    public int Finish(int limit, bool edns)
    {
        if (_section == 0)
        {
            _answerEnd = _authorityEnd = _position;
        }
        else if (_section == 1)
        {
            _authorityEnd = _position;
        }
        var opt = edns ? EdnsOpt.Length : 0;
        // Running out of buffer in the additional section only costs the additional records.
        var whole = !_overflow || _overflowSection == 2;
        if (_overflow || _position + opt > limit)
        {
            if (whole && _authorityEnd + opt <= limit)
            {
                _position = _authorityEnd;
                _additional = 0;
            }
            else
            {
                _position = _questionEnd;
                _answers = _authority = _additional = 0;
                _flags |= HeaderFlags.Truncated;
            }
        }
        if (edns)
        {
            WriteOpt();
        }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)(_flags | (_rcode & 0xF)));
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[4..], (ushort)(_questionEnd > Limits.HeaderLength ? 1 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[6..], _answers);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[8..], _authority);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[10..], _additional);
        return _position;
    }

    private void WriteOpt()
    {
        _position += EdnsOpt.Write(_buffer[_position..], _rcode);
        _additional++;
    }

    private void Overflow()
    {
        if (!_overflow)
        {
            _overflow = true;
            _overflowSection = _section;
        }
    }

    private void Count()
    {
        switch (_section)
        {
            case 0:
                _answers++;
                break;
            case 1:
                _authority++;
                break;
            default:
                _additional++;
                break;
        }
    }
}
