using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>
/// A read-only view of one STUN message (RFC 8489 §5, §14) over the caller's receive buffer.
/// <para>
/// <b>Lifetime:</b> the view holds no copy. It is valid only while the bytes it was read from are unchanged and
/// alive: once the receive buffer is reused or returned to its pool, every span obtained from this message is
/// garbage. Copy out (strings, <see cref="TransportAddress"/>, keys) whatever must outlive the packet.
/// </para>
/// <para>
/// <see cref="TryRead"/> validates the header and the attribute framing once; afterwards every accessor is
/// bounds-safe and non-throwing. Accessors honour RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY (or
/// MESSAGE-INTEGRITY-SHA256, whichever is first), other than those integrity attributes and FINGERPRINT, are ignored.
/// </para>
/// </summary>
public readonly ref partial struct StunMessage
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly int _integrityOffset;
    private readonly int _integritySha256Offset;
    private readonly int _fingerprintOffset;
    private readonly int _significantEnd;

    private StunMessage(ReadOnlySpan<byte> message, int integrityOffset, int integritySha256Offset, int fingerprintOffset)
    {
        _message = message;
        _integrityOffset = integrityOffset;
        _integritySha256Offset = integritySha256Offset;
        _fingerprintOffset = fingerprintOffset;
        _significantEnd = message.Length;
        foreach (int offset in (ReadOnlySpan<int>)[integrityOffset, integritySha256Offset, fingerprintOffset])
        {
            if (offset >= 0 && offset < _significantEnd)
            {
                _significantEnd = offset;
            }
        }
    }

    /// <summary>
    /// Reads one STUN message from the start of <paramref name="buffer"/> without throwing or allocating.
    /// Complete: <paramref name="message"/> views the first <see cref="ReadResult.Consumed"/> bytes (a datagram may
    /// hold more: trailing bytes are the caller's to judge). Incomplete: the buffer ends before the message does
    /// (for a datagram: truncated, drop it). Invalid: not a well-formed STUN message.
    /// </summary>
    public static ReadResult TryRead(ReadOnlySpan<byte> buffer, out StunMessage message)
    {
        message = default;
        // §5: the most significant two bits of every STUN message are zero.
        if (buffer.Length > 0 && (buffer[0] & 0xC0) != 0)
        {
            return ReadResult.Invalid(ReadError.NotStun);
        }

        if (buffer.Length < StunHeader.Length)
        {
            return ReadResult.Incomplete(StunHeader.Length);
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]) != StunHeader.MagicCookie)
        {
            return ReadResult.Invalid(ReadError.BadMagicCookie);
        }

        // §5: the length counts the attributes only, and is a multiple of four (attributes are padded).
        int attributesLength = StunHeader.ReadMessageLength(buffer);
        if ((attributesLength & 3) != 0)
        {
            return ReadResult.Invalid(ReadError.BadMessageLength);
        }

        int total = StunHeader.Length + attributesLength;
        if (buffer.Length < total)
        {
            return ReadResult.Incomplete(total);
        }

        ReadOnlySpan<byte> bytes = buffer[..total];
        int integrity = -1, integritySha256 = -1, fingerprint = -1;
        for (int offset = StunHeader.Length; offset < total;)
        {
            if (!StunAttribute.TryReadAt(bytes, offset, total, out StunAttributeType type, out int valueLength))
            {
                return ReadResult.Invalid(ReadError.AttributeOverrun);
            }

            // §14.7: FINGERPRINT, when present, is the last attribute.
            if (fingerprint >= 0)
            {
                return ReadResult.Invalid(ReadError.AttributeAfterFingerprint);
            }

            switch (type)
            {
                // §14.5: HMAC-SHA1, 20 bytes. Only the first counts; one after MESSAGE-INTEGRITY-SHA256 is ignored.
                case StunAttributeType.MessageIntegrity when integrity < 0 && integritySha256 < 0:
                    if (valueLength != StunIntegrity.Sha1Length)
                    {
                        return ReadResult.Invalid(ReadError.BadIntegrityLength);
                    }

                    integrity = offset;
                    break;

                // §14.6: HMAC-SHA256 truncated to at least 16 bytes, a multiple of four, at most 32.
                case StunAttributeType.MessageIntegritySha256 when integritySha256 < 0:
                    if (valueLength is < StunIntegrity.Sha256MinLength or > StunIntegrity.Sha256Length || (valueLength & 3) != 0)
                    {
                        return ReadResult.Invalid(ReadError.BadIntegrityLength);
                    }

                    integritySha256 = offset;
                    break;

                case StunAttributeType.Fingerprint:
                    if (valueLength != StunFingerprint.ValueLength)
                    {
                        return ReadResult.Invalid(ReadError.BadIntegrityLength);
                    }

                    fingerprint = offset;
                    break;
            }

            offset += 4 + StunHeader.Pad4(valueLength);
        }

        message = new StunMessage(bytes, integrity, integritySha256, fingerprint);
        return ReadResult.Complete(total);
    }

    /// <summary>The message bytes: header and attributes, exactly <c>20 + length</c> bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _message;

    /// <summary>Method and class.</summary>
    public StunMessageType Type => _message.IsEmpty ? default : StunMessageType.FromValue(BinaryPrimitives.ReadUInt16BigEndian(_message));

    /// <summary>The method (Binding, Allocate, ...).</summary>
    public StunMethod Method => Type.Method;

    /// <summary>Request, indication, success or error response.</summary>
    public StunClass Class => Type.Class;

    /// <summary>The 96-bit transaction ID.</summary>
    public StunTransactionId TransactionId => _message.IsEmpty ? default : StunTransactionId.Read(_message[8..]);

    /// <summary>True if MESSAGE-INTEGRITY is present and counts (it precedes any MESSAGE-INTEGRITY-SHA256).</summary>
    public bool HasMessageIntegrity => _integrityOffset >= 0;

    /// <summary>True if MESSAGE-INTEGRITY-SHA256 is present.</summary>
    public bool HasMessageIntegritySha256 => _integritySha256Offset >= 0;

    /// <summary>True if FINGERPRINT is present (it is then the last attribute).</summary>
    public bool HasFingerprint => _fingerprintOffset >= 0;

    /// <summary>
    /// The attributes that count, in wire order: those before the first integrity attribute (RFC 8489 §14.5).
    /// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT themselves are reached through their own members.
    /// </summary>
    public StunAttributeEnumerator GetEnumerator() => new(_message, StunHeader.Length, _significantEnd, null);

    /// <summary>The counted attributes of one type, in wire order (e.g. every XOR-PEER-ADDRESS of a CreatePermission).</summary>
    public StunAttributeEnumerator Enumerate(StunAttributeType type) => new(_message, StunHeader.Length, _significantEnd, type);

    /// <summary>Every attribute as it is on the wire, including ignored ones and the integrity attributes.</summary>
    public StunAttributeEnumerator EnumerateAll() => new(_message, StunHeader.Length, _message.Length, null);

    /// <summary>The value of the first counted attribute of <paramref name="type"/> (RFC 8489 §14: later duplicates are ignored).</summary>
    public bool TryGetAttribute(StunAttributeType type, out ReadOnlySpan<byte> value)
    {
        foreach (StunAttribute attribute in Enumerate(type))
        {
            value = attribute.Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Whether a counted attribute of <paramref name="type"/> is present.</summary>
    public bool HasAttribute(StunAttributeType type) => TryGetAttribute(type, out _);

    /// <summary>
    /// Writes the distinct comprehension-required attribute types (0x0000-0x7FFF) this codec does not know into
    /// <paramref name="destination"/>, in wire order, and returns how many it wrote; zero means the request can be
    /// processed. A server answers anything else with 420 (Unknown Attribute) listing them in UNKNOWN-ATTRIBUTES
    /// (RFC 8489 §6.3.1.1, §14.13). The destination's size bounds both the work and the list: pass the most the
    /// server will report (a handful); an attacker's thousands of distinct types then cost one pass.
    /// </summary>
    public int GetUnknownComprehensionRequired(Span<StunAttributeType> destination)
    {
        int count = 0;
        foreach (StunAttribute attribute in this)
        {
            if (count == destination.Length)
            {
                break;
            }

            StunAttributeType type = attribute.Type;
            if (StunAttributeTypes.IsComprehensionRequired(type) && !StunAttributeTypes.IsKnown(type)
                && !destination[..count].Contains(type))
            {
                destination[count++] = type;
            }
        }

        return count;
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY (RFC 8489 §14.5) with <paramref name="key"/>: the long-term key from
    /// <see cref="StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>
    /// or the short-term password. Constant-time. False if absent.
    /// </summary>
    public bool VerifyMessageIntegrity(ReadOnlySpan<byte> key) =>
        _integrityOffset >= 0 && StunIntegrity.Verify(_message, _integrityOffset, StunIntegrity.Algorithm.Sha1, key);

    /// <summary>Checks MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), possibly truncated. Constant-time. False if absent.</summary>
    public bool VerifyMessageIntegritySha256(ReadOnlySpan<byte> key) =>
        _integritySha256Offset >= 0 && StunIntegrity.Verify(_message, _integritySha256Offset, StunIntegrity.Algorithm.Sha256, key);

    /// <summary>Checks FINGERPRINT (RFC 8489 §14.7). False if absent.</summary>
    public bool VerifyFingerprint() =>
        _fingerprintOffset >= 0
        && BinaryPrimitives.ReadUInt32BigEndian(_message[(_fingerprintOffset + 4)..]) == StunFingerprint.Compute(_message[.._fingerprintOffset]);

    /// <inheritdoc/>
    public override string ToString() => $"{Type} {TransactionId} ({_message.Length} bytes)";
}
