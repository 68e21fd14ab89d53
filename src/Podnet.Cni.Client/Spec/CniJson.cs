using System.Buffers;
using System.Text;
using System.Text.Json;
using static Podnet.Cni.Spec.JsonFields;

namespace Podnet.Cni.Spec;

/// <summary>
/// The protocol types to and from JSON, written out by hand (see <see cref="JsonFields"/> for
/// why not the serializer). Output is what the serializer gave: compact, keys in declaration
/// order, null members left out, its default escaping; keys are matched case-sensitively and
/// unknown keys are ignored.
/// </summary>
public static class CniJson
{
    public static CniResult ReadResult(JsonElement element)
        => Fill<CniResult>(RequireObject(element, "a result"), static (result, p) =>
        {
            switch (p.Name)
            {
                case "cniVersion": result.CniVersion = String(p); break;
                case "interfaces": result.Interfaces = List(p, i => Item(i, "interfaces", ReadInterface)); break;
                case "ips": result.Ips = List(p, i => Item(i, "ips", ReadIp)); break;
                case "routes": result.Routes = List(p, i => Item(i, "routes", ReadRoute)); break;
                case "dns": result.Dns = Object(p, ReadDns); break;
            }
        });

    public static CniDns ReadDns(JsonElement element)
        => Fill<CniDns>(element, static (dns, p) =>
        {
            switch (p.Name)
            {
                case "nameservers": dns.Nameservers = Strings(p); break;
                case "domain": dns.Domain = String(p); break;
                case "search": dns.Search = Strings(p); break;
                case "options": dns.Options = Strings(p); break;
            }
        });

    public static CniError ReadError(JsonElement element)
        => Fill<CniError>(RequireObject(element, "an error"), static (error, p) =>
        {
            switch (p.Name)
            {
                case "cniVersion": error.CniVersion = String(p)!; break;
                case "code": error.Code = Int(p); break;
                case "msg": error.Msg = String(p)!; break;
                case "details": error.Details = String(p); break;
            }
        });

    public static List<CniAttachment>? ReadAttachments(JsonProperty p) => List(p, i => Item(i, p.Name, a => Fill<CniAttachment>(a, static (attachment, f) =>
    {
        switch (f.Name)
        {
            case "containerID": attachment.ContainerId = String(f)!; break;
            case "ifname": attachment.IfName = String(f)!; break;
        }
    })));

    private static CniInterface ReadInterface(JsonElement element)
        => Fill<CniInterface>(element, static (i, p) =>
        {
            switch (p.Name)
            {
                case "name": i.Name = String(p)!; break;
                case "mac": i.Mac = String(p); break;
                case "mtu": i.Mtu = NullableInt(p); break;
                case "sandbox": i.Sandbox = String(p); break;
                case "socketPath": i.SocketPath = String(p); break;
                case "pciID": i.PciId = String(p); break;
            }
        });

    private static CniIpConfig ReadIp(JsonElement element)
        => Fill<CniIpConfig>(element, static (ip, p) =>
        {
            switch (p.Name)
            {
                case "version": ip.Version = String(p); break;
                case "address": ip.Address = String(p)!; break;
                case "gateway": ip.Gateway = String(p); break;
                case "interface": ip.Interface = NullableInt(p); break;
            }
        });

    private static CniRoute ReadRoute(JsonElement element)
        => Fill<CniRoute>(element, static (r, p) =>
        {
            switch (p.Name)
            {
                case "dst": r.Dst = String(p)!; break;
                case "gw": r.Gw = String(p); break;
                case "mtu": r.Mtu = NullableInt(p); break;
                case "advmss": r.AdvMss = NullableInt(p); break;
                case "priority": r.Priority = NullableInt(p); break;
                case "table": r.Table = NullableInt(p); break;
                case "scope": r.Scope = NullableInt(p); break;
            }
        });

    public static string Write(CniResult result) => Write(w =>
    {
        w.WriteStartObject();
        WriteString(w, "cniVersion", result.CniVersion);
        WriteArray(w, "interfaces", result.Interfaces, i =>
        {
            w.WriteStartObject();
            WriteString(w, "name", i.Name);
            WriteString(w, "mac", i.Mac);
            WriteInt(w, "mtu", i.Mtu);
            WriteString(w, "sandbox", i.Sandbox);
            WriteString(w, "socketPath", i.SocketPath);
            WriteString(w, "pciID", i.PciId);
            w.WriteEndObject();
        });
        WriteArray(w, "ips", result.Ips, ip =>
        {
            w.WriteStartObject();
            WriteString(w, "version", ip.Version);
            WriteString(w, "address", ip.Address);
            WriteString(w, "gateway", ip.Gateway);
            WriteInt(w, "interface", ip.Interface);
            w.WriteEndObject();
        });
        WriteArray(w, "routes", result.Routes, r =>
        {
            w.WriteStartObject();
            WriteString(w, "dst", r.Dst);
            WriteString(w, "gw", r.Gw);
            WriteInt(w, "mtu", r.Mtu);
            WriteInt(w, "advmss", r.AdvMss);
            WriteInt(w, "priority", r.Priority);
            WriteInt(w, "table", r.Table);
            WriteInt(w, "scope", r.Scope);
            w.WriteEndObject();
        });
        if (result.Dns is { } dns)
        {
            w.WriteStartObject("dns");
            WriteArray(w, "nameservers", dns.Nameservers, w.WriteStringValue);
            WriteString(w, "domain", dns.Domain);
            WriteArray(w, "search", dns.Search, w.WriteStringValue);
            WriteArray(w, "options", dns.Options, w.WriteStringValue);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    });

    public static string Write(CniError error) => Write(w =>
    {
        w.WriteStartObject();
        WriteString(w, "cniVersion", error.CniVersion);
        w.WriteNumber("code", error.Code);
        WriteString(w, "msg", error.Msg);
        WriteString(w, "details", error.Details);
        w.WriteEndObject();
    });

    public static string Write(CniVersionInfo info) => Write(w =>
    {
        w.WriteStartObject();
        WriteString(w, "cniVersion", info.CniVersion);
        WriteArray(w, "supportedVersions", info.SupportedVersions, w.WriteStringValue);
        w.WriteEndObject();
    });

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteString(Utf8JsonWriter w, string key, string? value)
    {
        if (value is not null)
        {
            w.WriteString(key, value);
        }
    }

    private static void WriteInt(Utf8JsonWriter w, string key, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(key, v);
        }
    }

    private static void WriteArray<T>(Utf8JsonWriter w, string key, List<T>? items, Action<T> write)
    {
        if (items is null)
        {
            return;
        }
        w.WriteStartArray(key);
        foreach (var item in items)
        {
            write(item);
        }
        w.WriteEndArray();
    }
}
