namespace Podnet.Cni.Spec;

/// <summary>The spec's well-known error codes (0–99), and Podnet's own (100+).</summary>
public static class CniErrorCode
{
    public const int IncompatibleVersion = 1;
    public const int UnsupportedField = 2;
    public const int UnknownContainer = 3;
    public const int InvalidEnvironment = 4;
    public const int IoFailure = 5;
    public const int DecodeFailure = 6;
    public const int InvalidConfig = 7;
    public const int TryAgainLater = 11;
    public const int NotAvailable = 50;
    public const int NotAvailableLimitedConnectivity = 51;

    /// <summary>CNI_IFNAME already exists in the container's namespace.</summary>
    public const int InterfaceExists = 100;

    /// <summary>The container and interface already hold an address (a second ADD without DEL).</summary>
    public const int DuplicateAllocation = 101;

    /// <summary>No free address is left in a range set.</summary>
    public const int RangeExhausted = 102;

    /// <summary>CHECK found the attachment different from its ADD result.</summary>
    public const int CheckFailed = 103;

    /// <summary>A kernel call or another unexpected failure (libcni's ErrInternal).</summary>
    public const int Internal = 999;
}

/// <summary>A failure with its CNI error code; Main turns it into the spec's error JSON.</summary>
public sealed class CniException(int code, string message, string? details = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int Code { get; } = code;

    public string? Details { get; } = details;
}
