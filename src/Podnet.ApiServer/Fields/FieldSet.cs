using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Fields;

/// <summary>
/// A set of field paths, as structured-merge-diff's fieldpath.Set: a tree whose edges are path
/// elements written as in FieldsV1 (<c>f:name</c> a field, <c>k:{"name":"web"}</c> the item of
/// an associative list with that key, <c>v:"x"</c> an item of a set list) and whose nodes say
/// whether the path to them is itself in the set (<c>.</c> in FieldsV1 when it has children).
/// </summary>
internal sealed class FieldSet
{
    private readonly SortedDictionary<string, FieldSet> _children = new(ElementOrder.Instance);

    public bool Member { get; set; }

    public IReadOnlyDictionary<string, FieldSet> Children => _children;

    public bool IsEmpty => !Member && _children.Values.All(c => c.IsEmpty);

    public FieldSet Child(string element)
    {
        if (!_children.TryGetValue(element, out var child))
        {
            _children[element] = child = new FieldSet();
        }
        return child;
    }

    public FieldSet? Find(string element) => _children.GetValueOrDefault(element);

    public void Insert(IReadOnlyList<string> path)
    {
        var node = this;
        foreach (var element in path)
        {
            node = node.Child(element);
        }
        node.Member = true;
    }

    public bool Contains(IReadOnlyList<string> path)
    {
        var node = this;
        foreach (var element in path)
        {
            if (node.Find(element) is not { } next)
            {
                return false;
            }
            node = next;
        }
        return node.Member;
    }

    public FieldSet Union(FieldSet other) => Combine(this, other, (a, b) => a || b);

    public FieldSet Difference(FieldSet other) => Combine(this, other, (a, b) => a && !b);

    public FieldSet Intersection(FieldSet other) => Combine(this, other, (a, b) => a && b);

    private static FieldSet Combine(FieldSet? a, FieldSet? b, Func<bool, bool, bool> member)
    {
        var result = new FieldSet { Member = member(a?.Member == true, b?.Member == true) };
        var keys = (a?._children.Keys ?? Enumerable.Empty<string>()).Union(b?._children.Keys ?? Enumerable.Empty<string>());
        foreach (var key in keys)
        {
            var child = Combine(a?.Find(key), b?.Find(key), member);
            if (!child.IsEmpty)
            {
                result._children[key] = child;
            }
        }
        return result;
    }

    /// <summary>The paths in the set, in FieldsV1 order.</summary>
    public IEnumerable<IReadOnlyList<string>> Paths()
    {
        var path = new List<string>();
        return Walk(this, path);

        static IEnumerable<IReadOnlyList<string>> Walk(FieldSet node, List<string> path)
        {
            if (node.Member)
            {
                yield return path.ToArray();
            }
            foreach (var (element, child) in node._children)
            {
                path.Add(element);
                foreach (var p in Walk(child, path))
                {
                    yield return p;
                }
                path.RemoveAt(path.Count - 1);
            }
        }
    }

    /// <summary>FieldsV1: an object per node, <c>{}</c> for a member leaf, <c>".": {}</c> for a member with children.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        if (Member && _children.Values.Any(c => !c.IsEmpty))
        {
            json["."] = new JsonObject();
        }
        foreach (var (element, child) in _children)
        {
            if (!child.IsEmpty)
            {
                json[element] = child.ToJson();
            }
        }
        return json;
    }

    public static FieldSet FromJson(JsonObject? json)
    {
        var set = new FieldSet();
        foreach (var (element, child) in json ?? [])
        {
            if (element == ".")
            {
                set.Member = true;
                continue;
            }
            var node = FromJson(child as JsonObject);
            if (child is JsonObject { Count: 0 })
            {
                node.Member = true;
            }
            set._children[element] = node;
        }
        return set;
    }

    /// <summary>A path as kube-apiserver prints it in a conflict: <c>.spec.template.spec.containers[name="web"].image</c>.</summary>
    public static string Display(IReadOnlyList<string> path) => string.Concat(path.Select(element => element[..2] switch
    {
        "f:" => "." + element[2..],
        "k:" => "[" + string.Join(",", (JsonNode.Parse(element[2..]) as JsonObject ?? []).Select(p => $"{p.Key}={p.Value?.ToJsonString()}")) + "]",
        "v:" => "[=" + element[2..] + "]",
        _ => "[" + element[2..] + "]",
    }));

    /// <summary>Upstream's element order: fields, then keys, then values, then indices; each kind by its text.</summary>
    private sealed class ElementOrder : IComparer<string>
    {
        public static readonly ElementOrder Instance = new();

        private static int Rank(string e) => e.StartsWith("f:", StringComparison.Ordinal) ? 0 : e.StartsWith("k:", StringComparison.Ordinal) ? 1 : e.StartsWith("v:", StringComparison.Ordinal) ? 2 : 3;

        public int Compare(string? x, string? y)
        {
            var byRank = Rank(x!).CompareTo(Rank(y!));
            return byRank != 0 ? byRank : string.CompareOrdinal(x, y);
        }
    }
}
