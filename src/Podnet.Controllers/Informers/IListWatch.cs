using k8s;
using k8s.Models;

namespace Podnet.Controllers.Informers;

/// <summary>One event of a watch: an object change, a bookmark, or an ERROR with its Status.</summary>
public readonly record struct WatchEvent<T>(WatchEventType Type, T? Object, V1Status? Status);

/// <summary>A list of objects and the resourceVersion it was read at.</summary>
public sealed record ListResult<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>
/// The two calls an informer needs for one resource: list, and watch from a resourceVersion.
/// <see cref="KubernetesListWatch{T, TList}"/> implements it over KubernetesClient; anything
/// else that speaks the same semantics (a test double) can stand in.
/// </summary>
public interface IListWatch<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    Task<ListResult<T>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Events after <paramref name="resourceVersion"/> until the server ends the watch. An
    /// ERROR event (such as 410 Expired) is yielded with its Status and ends the stream; a
    /// transport failure throws.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, CancellationToken cancellationToken);
}
