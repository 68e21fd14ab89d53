using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;
using Podnet.Controllers.Informers;

namespace Podnet.Dns.Watch;

/// <summary>An <see cref="IListWatch{T}"/> that passes every listed and watched object through <paramref name="slim"/> before the informer keeps it.</summary>
public sealed class SlimListWatch<T>(IListWatch<T> inner, Func<T, T> slim) : IListWatch<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public async Task<ListResult<T>> ListAsync(CancellationToken cancellationToken)
    {
        var list = await inner.ListAsync(cancellationToken).ConfigureAwait(false);
        return list with { Items = [.. list.Items.Select(slim)] };
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in inner.WatchAsync(resourceVersion, cancellationToken).ConfigureAwait(false))
        {
            // A bookmark carries only a resourceVersion: keep it as it is.
            yield return e.Object is { } item && e.Type != WatchEventType.Bookmark ? e with { Object = slim(item) } : e;
        }
    }
}
