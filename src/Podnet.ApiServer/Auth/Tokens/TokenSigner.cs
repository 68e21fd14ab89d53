using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Podnet.ApiServer.Auth.Tokens;

/// <summary>
/// The ServiceAccount token issuer's key and JWS (ES256, compact serialization): an ECDSA P-256
/// key kept in STATE/pki/sa.key, its key id as upstream computes it (base64url of the SHA-256 of
/// the public key's DER SubjectPublicKeyInfo), and bounded parsing of presented tokens.
/// </summary>
internal sealed class TokenSigner : IDisposable
{
    /// <summary>No token worth reading is longer (upstream bounds request headers similarly); longer ones are refused unparsed.</summary>
    public const int MaxTokenLength = 16 * 1024;

    private readonly ECDsa _key;

    public TokenSigner(string pkiDirectory)
    {
        var path = Path.Combine(pkiDirectory, "sa.key");
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            _key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            Pki.Certificates.WriteSecret(path, _key.ExportPkcs8PrivateKeyPem());
        }
        KeyId = Base64Url(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()));
    }

    public string KeyId { get; }

    public string Sign(JsonObject claims)
    {
        var header = new JsonObject { ["alg"] = "ES256", ["kid"] = KeyId };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    /// <summary>The claims of a token this key signed; null for anything else (malformed, another key, bad signature).</summary>
    public JsonObject? Verify(string token)
    {
        if (token.Length > MaxTokenLength)
        {
            return null;
        }
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            var options = new System.Text.Json.JsonDocumentOptions { MaxDepth = 16 };
            if (JsonNode.Parse(FromBase64Url(parts[0]), documentOptions: options) is not JsonObject header
                || (string?)header["alg"] != "ES256" || (string?)header["kid"] != KeyId)
            {
                return null;
            }
            var signature = FromBase64Url(parts[2]);
            if (!_key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return null;
            }
            return JsonNode.Parse(FromBase64Url(parts[1]), documentOptions: options) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The public key as a JWK, for /openid/v1/jwks.</summary>
    public JsonObject PublicJwk()
    {
        var p = _key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["use"] = "sig",
            ["kty"] = "EC",
            ["kid"] = KeyId,
            ["crv"] = "P-256",
            ["alg"] = "ES256",
            ["x"] = Base64Url(p.Q.X!),
            ["y"] = Base64Url(p.Q.Y!),
        };
    }

    public void Dispose() => _key.Dispose();

    public static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
