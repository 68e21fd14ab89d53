using System.Buffers;
using System.Runtime.InteropServices;
using static Podnet.ApiServer.Streaming.Spdy.ZlibNative;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// One direction's header compression context of a SPDY session: zlib with SPDY's dictionary,
/// one stream for the whole connection (each header block continues the previous one's
/// history), each block ending in a sync flush so that the peer can decode it alone.
/// </summary>
/// <remarks>
/// Not thread-safe: the session compresses under its write lock and decompresses on its read
/// loop, in frame order, which is the order the contexts must see the blocks in.
/// </remarks>
internal sealed unsafe class SpdyHeaderDeflater : IDisposable
{
    // A 2 KiB window and the smallest memLevel keep a session's compressor near 10 KiB instead
    // of zlib's default 256 KiB; header blocks here are a few dozen bytes, and any inflater
    // accepts a smaller window than its own.
    private const int WindowBits = 11;
    private const int MemLevel = 1;

    private ZStream* _z;

    public SpdyHeaderDeflater()
    {
        _z = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        var code = DeflateInit2(_z, 6, Deflated, WindowBits, MemLevel, DefaultStrategy, Version(), sizeof(ZStream));
        if (code != Ok)
        {
            NativeMemory.Free(_z);
            _z = null;
            throw new InvalidOperationException($"zlib deflateInit2 failed: {code}");
        }
        fixed (byte* dictionary = SpdyDictionary.Bytes)
        {
            code = DeflateSetDictionary(_z, dictionary, (uint)SpdyDictionary.Bytes.Length);
        }
        if (code != Ok)
        {
            Dispose();
            throw new InvalidOperationException($"zlib deflateSetDictionary failed: {code}");
        }
    }

    /// <summary>Compresses one header block, appending it, sync-flushed, to <paramref name="output"/>.</summary>
    public void Compress(ReadOnlySpan<byte> block, IBufferWriter<byte> output)
    {
        ObjectDisposedException.ThrowIf(_z == null, this);
        fixed (byte* input = block)
        {
            _z->NextIn = input;
            _z->AvailIn = (uint)block.Length;
            while (true)
            {
                var span = output.GetSpan(block.Length + 64);
                fixed (byte* outp = span)
                {
                    _z->NextOut = outp;
                    _z->AvailOut = (uint)span.Length;
                    var code = Deflate(_z, SyncFlush);
                    if (code != Ok && code != BufError)
                    {
                        throw new InvalidOperationException($"zlib deflate failed: {Message(_z, code)}");
                    }
                    var written = span.Length - (int)_z->AvailOut;
                    output.Advance(written);
                    // Done when every input byte is in and the flush did not fill the buffer.
                    if (_z->AvailIn == 0 && _z->AvailOut != 0)
                    {
                        break;
                    }
                }
            }
            _z->NextIn = null;
            _z->NextOut = null;
        }
    }

    public void Dispose()
    {
        if (_z != null)
        {
            _ = DeflateEnd(_z);
            NativeMemory.Free(_z);
            _z = null;
        }
    }
}

/// <summary>The receiving context: inflates each header block against the same history, bounded.</summary>
internal sealed unsafe class SpdyHeaderInflater : IDisposable
{
    private ZStream* _z;

    public SpdyHeaderInflater()
    {
        _z = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        var code = InflateInit(_z, Version(), sizeof(ZStream));
        if (code != Ok)
        {
            NativeMemory.Free(_z);
            _z = null;
            throw new InvalidOperationException($"zlib inflateInit failed: {code}");
        }
    }

    /// <summary>
    /// Inflates one block. A block that is not zlib, names another dictionary, ends the zlib
    /// stream or inflates past <paramref name="maxBytes"/> throws <see cref="SpdyProtocolException"/>;
    /// the context is then unusable, as the session is.
    /// </summary>
    public byte[] Decompress(ReadOnlySpan<byte> block, int maxBytes)
    {
        ObjectDisposedException.ThrowIf(_z == null, this);
        // One byte more than allowed, so that a block inflating past the bound is seen.
        var buffer = new byte[Math.Min(maxBytes + 1, Math.Max(256, block.Length * 8))];
        var produced = 0;
        fixed (byte* input = block)
        {
            _z->NextIn = input;
            _z->AvailIn = (uint)block.Length;
            try
            {
                while (true)
                {
                    if (produced == buffer.Length)
                    {
                        if (buffer.Length > maxBytes)
                        {
                            throw new SpdyProtocolException($"a header block inflates to more than {maxBytes} bytes");
                        }
                        Array.Resize(ref buffer, Math.Min(maxBytes + 1, buffer.Length * 2));
                    }
                    int code;
                    fixed (byte* outp = &buffer[produced])
                    {
                        _z->NextOut = outp;
                        _z->AvailOut = (uint)(buffer.Length - produced);
                        code = Inflate(_z, SyncFlush);
                        produced = buffer.Length - (int)_z->AvailOut;
                    }
                    if (code == NeedDict)
                    {
                        SetDictionary();
                        continue;
                    }
                    if (code == StreamEnd)
                    {
                        throw new SpdyProtocolException("a header block ends the session's zlib stream");
                    }
                    if (code != Ok && code != BufError)
                    {
                        throw new SpdyProtocolException($"a header block is not valid zlib: {Message(_z, code)}");
                    }
                    if (_z->AvailIn == 0 && _z->AvailOut != 0)
                    {
                        break;
                    }
                    if (code == BufError && _z->AvailOut != 0)
                    {
                        break;
                    }
                }
            }
            finally
            {
                _z->NextIn = null;
                _z->NextOut = null;
            }
        }
        if (produced > maxBytes)
        {
            throw new SpdyProtocolException($"a header block inflates to more than {maxBytes} bytes");
        }
        return buffer.AsSpan(0, produced).ToArray();
    }

    private void SetDictionary()
    {
        int code;
        fixed (byte* dictionary = SpdyDictionary.Bytes)
        {
            code = InflateSetDictionary(_z, dictionary, (uint)SpdyDictionary.Bytes.Length);
        }
        if (code != Ok)
        {
            throw new SpdyProtocolException("a header block's zlib stream names a dictionary other than SPDY/3's");
        }
    }

    public void Dispose()
    {
        if (_z != null)
        {
            _ = InflateEnd(_z);
            NativeMemory.Free(_z);
            _z = null;
        }
    }
}
