using Podnet.Dns.Index;

namespace Podnet.Dns.Server;

/// <summary>The index queries read: replaced whole by the watch, read without a lock by every worker.</summary>
public sealed class IndexHolder(IRecordIndex initial)
{
    private IRecordIndex _current = initial;

    public IRecordIndex Current => Volatile.Read(ref _current);

    public void Publish(IRecordIndex index) => Volatile.Write(ref _current, index);
}
