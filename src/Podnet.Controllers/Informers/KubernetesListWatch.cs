using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;

namespace Podnet.Controllers.Informers;

/// <summary>
/// <see cref="IListWatch{T}"/> over a KubernetesClient list call and its watch call.
/// </summary>
/// <remarks>
/// KubernetesClient reports a watch's ERROR event (whose object is a Status, not a
/// <typeparamref name="T"/>) through its onError callback as a <see cref="KubernetesException"/>
/// and then keeps reading. Here that callback records the Status and cancels the read, and the
/// Status comes out as an ERROR event, so the informer sees 410 Expired in band as the API
/// sends it.
/// </remarks>
public sealed class KubernetesListWatch<T, TList> : IListWatch<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : IItems<T>, IMetadata<V1ListMeta>
{
    public delegate Task<TList> ListCall(CancellationToken cancellationToken);

    public delegate IAsyncEnumerable<(WatchEventType, T)> WatchCall(string resourceVersion, Action<Exception> onError, CancellationToken cancellationToken);

    private readonly ListCall _list;
    private readonly WatchCall _watch;

    public KubernetesListWatch(ListCall list, WatchCall watch)
    {
        _list = list;
        _watch = watch;
    }

    public async Task<ListResult<T>> ListAsync(CancellationToken cancellationToken)
    {
        var list = await _list(cancellationToken).ConfigureAwait(false);
        return new ListResult<T>([.. list.Items ?? []], list.Metadata?.ResourceVersion ?? "");
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        V1Status? status = null;
        Exception? failure = null;
        void OnError(Exception e)
        {
            if (e is KubernetesException { Status: { } s })
            {
                status = s;
            }
            else
            {
                failure = e;
            }
            stop.Cancel();
        }
        var events = _watch(resourceVersion, OnError, stop.Token).GetAsyncEnumerator(stop.Token);
        await using (events.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await events.MoveNextAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (status is not null || failure is not null))
                {
                    more = false;
                }
                if (!more)
                {
                    break;
                }
                yield return new WatchEvent<T>(events.Current.Item1, events.Current.Item2, null);
            }
        }
        if (status is not null)
        {
            yield return new WatchEvent<T>(WatchEventType.Error, null, status);
        }
        else if (failure is not null)
        {
            throw new InvalidOperationException($"watch of {typeof(T).Name} from resourceVersion {resourceVersion} failed: {failure.Message}", failure);
        }
    }
}
