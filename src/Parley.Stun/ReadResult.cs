namespace Parley.Stun;

/// <summary>What a non-throwing read found in the bytes it was given.</summary>
public enum ReadStatus : byte
{
    /// <summary>The bytes end before the message or frame does: buffer more (stream) or drop (datagram).</summary>
    Incomplete,

    /// <summary>A whole, well-formed message or frame; <see cref="ReadResult.Consumed"/> says how long it is.</summary>
    Complete,

    /// <summary>The bytes are not a well-formed message or frame; <see cref="ReadResult.Error"/> says why.</summary>
    Invalid,
}

/// <summary>Why bytes were rejected. Stable names: usable as log and metric ids.</summary>
public enum ReadError : byte
{
    /// <summary>Nothing is wrong.</summary>
    None,

    /// <summary>Neither a STUN message nor ChannelData (RFC 8656 §12: first two bits and magic cookie).</summary>
    UnknownPacket,

    /// <summary>The STUN header's two most significant bits are not zero (RFC 8489 §5).</summary>
    NotStun,

    /// <summary>The magic cookie is not 0x2112A442 (RFC 8489 §5).</summary>
    BadMagicCookie,

    /// <summary>The STUN message length is not a multiple of four (RFC 8489 §5).</summary>
    BadMessageLength,

    /// <summary>An attribute's length runs past the end of the message (RFC 8489 §14).</summary>
    AttributeOverrun,

    /// <summary>MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT has a length the RFC forbids (RFC 8489 §14.5-14.7).</summary>
    BadIntegrityLength,

    /// <summary>An attribute follows FINGERPRINT, which must be last (RFC 8489 §14.7).</summary>
    AttributeAfterFingerprint,

    /// <summary>A ChannelData channel number outside 0x4000-0x4FFF (RFC 8656 §12).</summary>
    BadChannelNumber,
}

/// <summary>
/// The small result of a non-throwing read: <see cref="ReadStatus.Incomplete"/> (with how many bytes are needed),
/// <see cref="ReadStatus.Complete"/> (with how many bytes were consumed) or <see cref="ReadStatus.Invalid"/> (with why).
/// </summary>
public readonly record struct ReadResult
{
    private ReadResult(ReadStatus status, int length, ReadError error)
    {
        Status = status;
        Length = length;
        Error = error;
    }

    /// <summary>Whether the read is complete, incomplete or invalid.</summary>
    public ReadStatus Status { get; }

    /// <summary>
    /// Complete: the length of the message or frame. Incomplete: the total number of bytes, counted from the start
    /// of the buffer, that must be available before a read can make progress. Invalid: zero.
    /// </summary>
    public int Length { get; }

    /// <summary>Why the bytes were rejected; <see cref="ReadError.None"/> unless <see cref="Status"/> is Invalid.</summary>
    public ReadError Error { get; }

    /// <summary>True when the read found a whole, well-formed message or frame.</summary>
    public bool IsComplete => Status == ReadStatus.Complete;

    /// <summary>Bytes consumed by a complete read; zero otherwise.</summary>
    public int Consumed => Status == ReadStatus.Complete ? Length : 0;

    /// <summary>A complete read of <paramref name="consumed"/> bytes.</summary>
    public static ReadResult Complete(int consumed) => new(ReadStatus.Complete, consumed, ReadError.None);

    /// <summary>An incomplete read that needs at least <paramref name="needed"/> bytes in total.</summary>
    public static ReadResult Incomplete(int needed) => new(ReadStatus.Incomplete, needed, ReadError.None);

    /// <summary>An invalid read, for <paramref name="error"/>.</summary>
    public static ReadResult Invalid(ReadError error) => new(ReadStatus.Invalid, 0, error);

    /// <inheritdoc/>
    public override string ToString() => Status switch
    {
        ReadStatus.Complete => $"Complete({Length})",
        ReadStatus.Incomplete => $"Incomplete(needs {Length})",
        _ => $"Invalid({Error})",
    };
}
