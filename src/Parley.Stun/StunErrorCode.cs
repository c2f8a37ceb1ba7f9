namespace Parley.Stun;

/// <summary>
/// STUN and TURN error codes (RFC 8489 §14.8, RFC 8656 §19) with their default reason phrases, and the ERROR-CODE
/// value layout shared with ADDRESS-ERROR-CODE: 21 reserved bits, a 3-bit class (hundreds), an 8-bit number (0-99),
/// then a UTF-8 reason phrase.
/// </summary>
public static class StunErrorCode
{
    /// <summary>300 Try Alternate.</summary>
    public const int TryAlternate = 300;

    /// <summary>400 Bad Request: malformed.</summary>
    public const int BadRequest = 400;

    /// <summary>401 Unauthorized: missing or wrong credentials.</summary>
    public const int Unauthorized = 401;

    /// <summary>403 Forbidden (RFC 8656).</summary>
    public const int Forbidden = 403;

    /// <summary>405 Mobility Forbidden (RFC 8016).</summary>
    public const int MobilityForbidden = 405;

    /// <summary>420 Unknown Attribute: answered with UNKNOWN-ATTRIBUTES.</summary>
    public const int UnknownAttribute = 420;

    /// <summary>437 Allocation Mismatch (RFC 8656).</summary>
    public const int AllocationMismatch = 437;

    /// <summary>438 Stale Nonce.</summary>
    public const int StaleNonce = 438;

    /// <summary>440 Address Family not Supported (RFC 8656).</summary>
    public const int AddressFamilyNotSupported = 440;

    /// <summary>441 Wrong Credentials (RFC 8656).</summary>
    public const int WrongCredentials = 441;

    /// <summary>442 Unsupported Transport Protocol (RFC 8656).</summary>
    public const int UnsupportedTransportProtocol = 442;

    /// <summary>443 Peer Address Family Mismatch (RFC 8656).</summary>
    public const int PeerAddressFamilyMismatch = 443;

    /// <summary>486 Allocation Quota Reached (RFC 8656).</summary>
    public const int AllocationQuotaReached = 486;

    /// <summary>500 Server Error.</summary>
    public const int ServerError = 500;

    /// <summary>508 Insufficient Capacity (RFC 8656).</summary>
    public const int InsufficientCapacity = 508;

    /// <summary>The RFC's reason phrase for <paramref name="code"/>, UTF-8; empty for codes it does not name.</summary>
    public static ReadOnlySpan<byte> GetDefaultReasonPhrase(int code) => code switch
    {
        TryAlternate => "Try Alternate"u8,
        BadRequest => "Bad Request"u8,
        Unauthorized => "Unauthorized"u8,
        Forbidden => "Forbidden"u8,
        MobilityForbidden => "Mobility Forbidden"u8,
        UnknownAttribute => "Unknown Attribute"u8,
        AllocationMismatch => "Allocation Mismatch"u8,
        StaleNonce => "Stale Nonce"u8,
        AddressFamilyNotSupported => "Address Family not Supported"u8,
        WrongCredentials => "Wrong Credentials"u8,
        UnsupportedTransportProtocol => "Unsupported Transport Protocol"u8,
        PeerAddressFamilyMismatch => "Peer Address Family Mismatch"u8,
        AllocationQuotaReached => "Allocation Quota Reached"u8,
        ServerError => "Server Error"u8,
        InsufficientCapacity => "Insufficient Capacity"u8,
        _ => [],
    };

    /// <summary>Whether <paramref name="code"/> can be encoded: class 3-6, number 0-99 (RFC 8489 §14.8).</summary>
    public static bool IsValid(int code) => code is >= 300 and <= 699;

    // Reads class, number and reason phrase from an ERROR-CODE (or ADDRESS-ERROR-CODE) value; bytes 0-1 are not looked at.
    internal static bool TryRead(ReadOnlySpan<byte> value, out int code, out ReadOnlySpan<byte> reasonPhrase)
    {
        code = 0;
        reasonPhrase = default;
        if (value.Length < 4)
        {
            return false;
        }

        int @class = value[2] & 0x07;
        int number = value[3];
        if (@class is < 3 or > 6 || number > 99)
        {
            return false;
        }

        code = (@class * 100) + number;
        reasonPhrase = value[4..];
        return true;
    }

    // Writes the four fixed bytes (first byte as given, for ADDRESS-ERROR-CODE's family) and the reason phrase.
    internal static int Write(Span<byte> destination, byte first, int code, ReadOnlySpan<byte> reasonPhrase)
    {
        destination[0] = first;
        destination[1] = 0;
        destination[2] = (byte)(code / 100);
        destination[3] = (byte)(code % 100);
        reasonPhrase.CopyTo(destination[4..]);
        return 4 + reasonPhrase.Length;
    }
}
