using System.Net;
using System.Net.Sockets;

namespace Podnet.Core.Nft;

/// <summary>
/// Sends a packet through an <see cref="NftState"/>'s base chains as the kernel would, and says
/// what happens to it: the verdict, the NAT applied, the rule that decided. Explains planned
/// rulesets in unit tests (kube-proxy's nftables tests have the same kind of tracer) and answers
/// "why" questions without a kernel.
/// </summary>
/// <remarks>
/// The path: a packet arriving on an interface passes prerouting, then input when its
/// destination (after DNAT) is one of the node's addresses, else forward and postrouting; a
/// packet the node sends passes output, postrouting and, to a local address, input. At each
/// hook the base chains of every table of the packet's family (and inet) run in priority
/// order; nat chains see only the first packet of a connection (ct state new) and, at each hook,
/// only until one of them has translated it. Where a rule draws a random number (<c>numgen random mod N</c>),
/// <see cref="Trace"/> follows every branch and returns one result for each.
/// Rules are read in the subset of nft's syntax Podnet writes; anything else is an error, not a
/// silent mismatch.
/// </remarks>
public sealed class NftTracer(NftState state, IEnumerable<IPAddress> localAddresses)
{
    private readonly HashSet<IPAddress> _local = [.. localAddresses];

    /// <summary>Every way <paramref name="packet"/> can go, one result per combination of random draws.</summary>
    public IReadOnlyList<NftTraceResult> Trace(NftPacket packet, NftOrigin origin = NftOrigin.Incoming)
    {
        var results = new List<NftTraceResult>();
        var pending = new Stack<List<int>>();
        pending.Push([]);
        while (pending.Count > 0)
        {
            var forced = pending.Pop();
            var run = new Run(this, forced);
            var result = run.Go(packet, origin);
            results.Add(result);
            // Branch on every draw made past the forced prefix: values 1..N-1 at this depth.
            for (var depth = forced.Count; depth < run.Draws.Count; depth++)
            {
                for (var value = run.Draws[depth] - 1; value >= 1; value--)
                {
                    pending.Push([.. result.Choices.Take(depth), value]);
                }
            }
        }
        return results;
    }

    /// <summary>One way: the random draws are <paramref name="choices"/> in order (0 when they run out).</summary>
    public NftTraceResult TraceOne(NftPacket packet, NftOrigin origin, params int[] choices) => new Run(this, choices).Go(packet, origin);

    /// <summary>Makes a result's set updates (<c>update @set { ip saddr }</c>) part of the state, as the kernel would.</summary>
    public void Commit(NftTraceResult result)
    {
        foreach (var update in result.SetUpdates)
        {
            var s = state.Table(update.Table)?.Sets.GetValueOrDefault(update.Set) ?? throw new InvalidOperationException($"no set {update.Set} in {update.Table}");
            s.Elements[update.Key] = new NftElement(update.Set, update.Key, update.Value);
        }
    }

    internal bool IsLocal(IPAddress address) => _local.Contains(address) || IPAddress.IsLoopback(address);

    internal NftState State => state;

    /// <summary>One pass of one packet, with fixed random draws.</summary>
    private sealed class Run(NftTracer tracer, IReadOnlyList<int> forced) : IRun
    {
        private readonly List<NftTracePoint> _matched = [];
        private readonly List<NftSetUpdate> _updates = [];
        private readonly List<int> _choices = [];

        public List<int> Draws { get; } = [];

        public NftTraceResult Go(NftPacket packet, NftOrigin origin)
        {
            var p = new PacketState(packet);
            var hooks = origin == NftOrigin.Local ? [NftHook.Output, NftHook.Postrouting] : new List<NftHook> { NftHook.Prerouting };
            for (var i = 0; i < hooks.Count; i++)
            {
                var hook = hooks[i];
                var verdict = RunHook(hook, p);
                if (verdict is not null)
                {
                    return Result(p, verdict);
                }
                if (origin == NftOrigin.Incoming && hook == NftHook.Prerouting)
                {
                    hooks.AddRange(tracer.IsLocal(p.Packet.Destination) ? [NftHook.Input] : [NftHook.Forward, NftHook.Postrouting]);
                }
                else if (origin == NftOrigin.Local && hook == NftHook.Postrouting && tracer.IsLocal(p.Packet.Destination))
                {
                    hooks.Add(NftHook.Input);
                }
            }
            return Result(p, null);
        }

        public int Draw(int modulus)
        {
            var index = _choices.Count;
            var value = index < forced.Count ? forced[index] : 0;
            if (value >= modulus)
            {
                value = 0;
            }
            _choices.Add(value);
            Draws.Add(modulus);
            return value;
        }

        public void Update(NftTable table, string set, string key, string? value) => _updates.Add(new NftSetUpdate(table, set, key, value));

        public bool IsLocal(IPAddress address) => tracer.IsLocal(address);

        private NftTraceResult Result(PacketState p, Final? final) => new(
            final?.Kind ?? NftVerdictKind.Accept,
            final?.RejectWith,
            p.Packet,
            p.Masqueraded,
            p.SnatTo,
            final?.Point,
            [.. _matched],
            [.. _updates],
            [.. _choices]);

        /// <summary>Runs one hook's base chains; a final verdict ends the trace.</summary>
        private Final? RunHook(NftHook hook, PacketState p)
        {
            var family = p.Packet.IsIPv6 ? NftFamily.Ip6 : NftFamily.Ip;
            var chains = tracer.State.Tables
                .Where(t => t.Table.Family == family || t.Table.Family == NftFamily.Inet)
                .SelectMany(t => t.Chains.Values.Where(c => c.Chain.Hook?.Hook == hook).Select(c => (t.Table, c)))
                .OrderBy(x => x.c.Chain.Hook!.Priority).ThenBy(x => x.Table.Name, StringComparer.Ordinal)
                .ToList();
            // NAT is bound once per direction: the first nat chain of this hook that translates
            // (destination at prerouting/output, source at postrouting/input) ends the hook's NAT.
            p.NatDone = false;
            foreach (var (table, chain) in chains)
            {
                var spec = chain.Chain.Hook!;
                if (spec.Type == NftChainType.Nat && (p.Packet.CtState != NftCtState.New || p.NatDone))
                {
                    continue;
                }
                var natBefore = p.Translated;
                var outcome = RunChain(table, chain, p, 0);
                if (spec.Type == NftChainType.Nat && p.Translated != natBefore)
                {
                    p.NatDone = true;
                }
                switch (outcome.Kind)
                {
                    case OutcomeKind.Drop:
                        return new Final(NftVerdictKind.Drop, null, outcome.Point);
                    case OutcomeKind.Reject:
                        return new Final(NftVerdictKind.Reject, outcome.RejectWith, outcome.Point);
                    case OutcomeKind.Accept:
                        continue;
                    default:
                        if (spec.DropPolicy)
                        {
                            return new Final(NftVerdictKind.Drop, null, new NftTracePoint(table, chain.Chain.Name, -1, "policy drop"));
                        }
                        continue;
                }
            }
            return null;
        }

        private Outcome RunChain(NftTable table, ChainState chain, PacketState p, int depth)
        {
            if (depth > 64)
            {
                throw new InvalidOperationException($"jumps nest deeper than 64 at chain {chain.Chain.Name}: a loop?");
            }
            var tableState = tracer.State.Table(table)!;
            for (var i = 0; i < chain.Rules.Count; i++)
            {
                var rule = chain.Rules[i];
                var point = new NftTracePoint(table, chain.Chain.Name, i, rule.Text);
                var outcome = new NftRuleEvaluator(this, tableState, p, point).Evaluate(rule.Text);
                if (outcome.Kind == OutcomeKind.NoMatch)
                {
                    continue;
                }
                _matched.Add(point);
                switch (outcome.Kind)
                {
                    case OutcomeKind.Continue:
                        continue;
                    case OutcomeKind.Jump:
                    case OutcomeKind.Goto:
                        var target = tableState.Chains.GetValueOrDefault(outcome.Chain!) ?? throw new InvalidOperationException($"no chain {outcome.Chain} in {table}");
                        var inner = RunChain(table, target, p, depth + 1);
                        if (inner.Kind == OutcomeKind.Return && outcome.Kind == OutcomeKind.Jump)
                        {
                            continue;
                        }
                        return inner;
                    default:
                        return outcome;
                }
            }
            return Outcome.Return;
        }
    }

    private sealed record Final(NftVerdictKind Kind, string? RejectWith, NftTracePoint? Point);

    /// <summary>A packet as the hooks change it.</summary>
    internal sealed class PacketState(NftPacket packet)
    {
        public NftPacket Packet { get; set; } = packet;

        public bool Masqueraded { get; set; }

        public IPAddress? SnatTo { get; set; }

        public bool NatDone { get; set; }

        /// <summary>Counts translations, so a hook can tell whether a chain translated.</summary>
        public int Translated { get; set; }

        public AddressFamily Family => Packet.Destination.AddressFamily;
    }

    internal interface IRun
    {
        int Draw(int modulus);

        void Update(NftTable table, string set, string key, string? value);

        bool IsLocal(IPAddress address);
    }
}
