using System.Runtime.InteropServices;

namespace Podnet.ApiServer.Streaming.Spdy;

/// <summary>
/// The few entry points of the machine's zlib (libz.so.1) that SPDY's header compression needs:
/// System.IO.Compression has no preset dictionary, and SPDY/3 compresses every header block
/// against one.
/// </summary>
/// <remarks>
/// The z_stream is allocated in native memory, never on the managed heap: zlib keeps a pointer
/// back to it in its state and refuses a stream that has moved. The layout is LP64's (Linux on
/// 64-bit: uLong is 64 bits wide, which nuint matches).
/// </remarks>
internal static unsafe partial class ZlibNative
{
    internal const int Ok = 0;
    internal const int StreamEnd = 1;
    internal const int NeedDict = 2;
    internal const int BufError = -5;
    internal const int SyncFlush = 2;
    internal const int Deflated = 8;
    internal const int DefaultStrategy = 0;

    private const string Library = "libz.so.1";

    [StructLayout(LayoutKind.Sequential)]
    internal struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public byte* Msg;
        public void* State;
        public void* Zalloc;
        public void* Zfree;
        public void* Opaque;
        public int DataType;
        public nuint Adler;
        public nuint Reserved;
    }

    [LibraryImport(Library, EntryPoint = "zlibVersion")]
    internal static partial byte* Version();

    [LibraryImport(Library, EntryPoint = "deflateInit2_")]
    internal static partial int DeflateInit2(ZStream* stream, int level, int method, int windowBits, int memLevel, int strategy, byte* version, int streamSize);

    [LibraryImport(Library, EntryPoint = "deflateSetDictionary")]
    internal static partial int DeflateSetDictionary(ZStream* stream, byte* dictionary, uint length);

    [LibraryImport(Library, EntryPoint = "deflate")]
    internal static partial int Deflate(ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "deflateEnd")]
    internal static partial int DeflateEnd(ZStream* stream);

    [LibraryImport(Library, EntryPoint = "inflateInit_")]
    internal static partial int InflateInit(ZStream* stream, byte* version, int streamSize);

    [LibraryImport(Library, EntryPoint = "inflateSetDictionary")]
    internal static partial int InflateSetDictionary(ZStream* stream, byte* dictionary, uint length);

    [LibraryImport(Library, EntryPoint = "inflate")]
    internal static partial int Inflate(ZStream* stream, int flush);

    [LibraryImport(Library, EntryPoint = "inflateEnd")]
    internal static partial int InflateEnd(ZStream* stream);

    internal static string Message(ZStream* stream, int code) =>
        stream->Msg != null ? Marshal.PtrToStringUTF8((nint)stream->Msg) ?? $"zlib error {code}" : $"zlib error {code}";
}
