using System.Net;
using System.Text;
using Podnet.Cni.Config;
using Podnet.Cni.Spec;

namespace Podnet.Cni.Ipam;

/// <summary>
/// The reservations of one network on disk, in host-local's layout plus an attachment index.
/// </summary>
/// <remarks>
/// <code>
/// DIR/&lt;ip&gt;                     "&lt;containerID&gt;\r\n&lt;ifname&gt;", created with O_EXCL: the reservation itself
/// DIR/last_reserved_ip.&lt;set&gt;   round-robin hint, replaced by rename (a lost update only moves the hint)
/// DIR/attachments/&lt;cid&gt;@&lt;if&gt;  the attachment's addresses, created with O_EXCL first: duplicate ADD check, O(1) DEL
/// DIR/lock                     flock: ADD/DEL/CHECK shared, GC exclusive
/// </code>
/// O_EXCL makes each reservation atomic, so concurrent ADDs need no lock among themselves and
/// never wait for each other; losing a race on one address just moves on to the next.
/// </remarks>
internal sealed class AddressStore(string directory)
{
    private const string AttachmentDirectory = "attachments";

    public string Directory { get; } = directory;

    private string Attachments => Path.Combine(Directory, AttachmentDirectory);

    public void EnsureCreated() => System.IO.Directory.CreateDirectory(Attachments);

    public string LockPath => Path.Combine(Directory, "lock");

    public static string Owner(string containerId, string ifName) => $"{containerId}\r\n{ifName}";

    /// <summary>Reserves <paramref name="address"/>; false when someone holds it already.</summary>
    public bool TryReserve(IPAddress address, string containerId, string ifName) =>
        TryCreate(Path.Combine(Directory, address.ToString()), Owner(containerId, ifName));

    /// <summary>Removes the reservation when <paramref name="owner"/> holds it (null: whoever does).</summary>
    public bool Release(IPAddress address, string? owner)
    {
        var path = Path.Combine(Directory, address.ToString());
        if (owner is not null && ReadOwner(path) != owner)
        {
            return false;
        }
        return Delete(path);
    }

    /// <summary>Who holds <paramref name="address"/> ("cid\r\nifname"), or null.</summary>
    public string? OwnerOf(IPAddress address) => ReadOwner(Path.Combine(Directory, address.ToString()));

    /// <summary>Every reserved address with its owner.</summary>
    public IEnumerable<(IPAddress Address, string? Owner)> Reservations()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            yield break;
        }
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            if (IPAddress.TryParse(Path.GetFileName(path), out var address))
            {
                yield return (address, ReadOwner(path));
            }
        }
    }

    public IPAddress? LastReserved(int set)
    {
        var text = ReadText(Path.Combine(Directory, $"last_reserved_ip.{set}"));
        return text is not null && IPAddress.TryParse(text.Trim(), out var address) ? address : null;
    }

    /// <summary>
    /// Best effort: the hint only decides where the next search starts, so a failure to write it
    /// is ignored. Written in place and cut to length, never truncated to zero or renamed over:
    /// ext4 (auto_da_alloc) starts writeback on either, which cost an ADD 3-4 ms each.
    /// A reader racing the write may see a mix of two addresses, which only moves the start.
    /// </summary>
    public void SetLastReserved(int set, IPAddress address)
    {
        try
        {
            using var handle = File.OpenHandle(Path.Combine(Directory, $"last_reserved_ip.{set}"), FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            var bytes = Encoding.ASCII.GetBytes(address.ToString());
            RandomAccess.Write(handle, bytes, 0);
            RandomAccess.SetLength(handle, bytes.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Claims the attachment record (its first two lines: container and interface); false when
    /// the container and interface already have one.
    /// </summary>
    public bool TryCreateAttachment(string containerId, string ifName) =>
        TryCreate(AttachmentPath(containerId, ifName), $"{containerId}\n{ifName}\n");

    /// <summary>Appends the addresses to the claimed record (appended, not rewritten: see <see cref="SetLastReserved"/>).</summary>
    public void WriteAttachment(string containerId, string ifName, IEnumerable<IPAddress> addresses)
    {
        var text = new StringBuilder();
        foreach (var a in addresses)
        {
            text.Append(a).Append('\n');
        }
        using var stream = new FileStream(AttachmentPath(containerId, ifName), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The addresses recorded for the attachment: null when there is no record.</summary>
    public IReadOnlyList<IPAddress>? ReadAttachment(string containerId, string ifName)
    {
        var text = ReadText(AttachmentPath(containerId, ifName));
        return text?.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2)
            .Select(l => IPAddress.TryParse(l, out var a) ? a : null).OfType<IPAddress>().ToArray();
    }

    public bool DeleteAttachment(string containerId, string ifName) => Delete(AttachmentPath(containerId, ifName));

    /// <summary>Every attachment record as (containerId, ifName).</summary>
    public IEnumerable<(string ContainerId, string IfName)> AttachmentRecords()
    {
        if (!System.IO.Directory.Exists(Attachments))
        {
            yield break;
        }
        foreach (var path in System.IO.Directory.EnumerateFiles(Attachments))
        {
            var lines = ReadText(path)?.Split('\n');
            if (lines is { Length: >= 2 } && lines[0].Length > 0)
            {
                yield return (lines[0], lines[1]);
            }
            else
            {
                // A record without its two lines (an ADD that crashed while claiming it): the name tells.
                var name = Path.GetFileName(path);
                var at = name.LastIndexOf('@');
                if (at > 0)
                {
                    yield return (name[..at], name[(at + 1)..]);
                }
            }
        }
    }

    /// <summary>
    /// DIR/attachments/&lt;cid&gt;@&lt;if&gt;; a container ID too long for a file name (the spec sets no
    /// limit, a file name has 255 bytes) is cut to its first 180 characters plus "~" and a 60-bit
    /// hash of the whole (FNV-1a, as <see cref="Plan.StableName"/>: SHA-256 would load OpenSSL,
    /// which this static binary must not dlopen). The record's first line holds the ID itself.
    /// </summary>
    private string AttachmentPath(string containerId, string ifName)
    {
        var name = $"{containerId}@{ifName}";
        if (Encoding.UTF8.GetByteCount(name) > 255)
        {
            name = $"{Plan.StableName.Derive(containerId[..180] + "~", containerId, 12)}@{ifName}";
        }
        return Path.Combine(Attachments, name);
    }

    private static bool TryCreate(string path, string content)
    {
        try
        {
            // FileMode.CreateNew is open(O_CREAT|O_EXCL); FileShare.ReadWrite keeps .NET's own flock shared.
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            if (content.Length > 0)
            {
                stream.Write(Encoding.UTF8.GetBytes(content));
            }
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    private static string? ReadOwner(string path) => ReadText(path)?.Trim();

    private static string? ReadText(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static bool Delete(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        File.Delete(path);
        return true;
    }
}
