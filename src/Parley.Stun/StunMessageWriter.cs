using System.Buffers.Binary;
using System.Text;

namespace Parley.Stun;

/// <summary>
/// Builds one STUN message in a caller-owned span (RFC 8489 §5, §14): the header, then attributes padded with zeros
/// to four bytes, then optionally MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, which finish it.
/// The header's length field is kept current, so <see cref="Written"/> is a valid message after every call.
/// <para>
/// Never throws for lack of room: a write that does not fit is skipped and sets <see cref="HasOverflowed"/>, and every
/// later write is skipped too; check once at the end. Arguments that no correct caller passes (an error code outside
/// 300-699, a 9-byte reservation token) throw <see cref="ArgumentException"/>: those are bugs, not wire conditions.
/// </para>
/// </summary>
public ref struct StunMessageWriter
{
    private readonly Span<byte> _buffer;
    private readonly StunTransactionId _transactionId;
    private int _length;
    private bool _overflowed;
    private bool _finished;
    private bool _protected;

    /// <summary>Starts a message of <paramref name="type"/> at the start of <paramref name="buffer"/>.</summary>
    public StunMessageWriter(Span<byte> buffer, StunMessageType type, StunTransactionId transactionId)
    {
        _buffer = buffer;
        _transactionId = transactionId;
        if (buffer.Length < StunHeader.Length)
        {
            _overflowed = true;
            return;
        }

        StunHeader.Write(buffer, type, transactionId);
        _length = StunHeader.Length;
    }

    /// <summary>Bytes written so far, header included.</summary>
    public readonly int Length => _length;

    /// <summary>True once a write did not fit; the message is then incomplete and must not be sent.</summary>
    public readonly bool HasOverflowed => _overflowed;

    /// <summary>The message as written so far.</summary>
    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Appends an attribute with <paramref name="value"/> and zero padding.</summary>
    public void WriteAttribute(StunAttributeType type, scoped ReadOnlySpan<byte> value)
    {
        Span<byte> destination = Reserve(type, value.Length);
        if (destination.Length == value.Length)
        {
            value.CopyTo(destination);
        }
    }

    /// <summary>
    /// Appends an attribute of <paramref name="valueLength"/> bytes and returns its value area for the caller to fill
    /// (padding is already zeroed); empty if it did not fit. Lets DATA be received or copied straight into place.
    /// </summary>
    public Span<byte> Reserve(StunAttributeType type, int valueLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(valueLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(valueLength, ushort.MaxValue);
        if (_finished)
        {
            throw new InvalidOperationException("Attributes cannot follow FINGERPRINT (RFC 8489 §14.7).");
        }

        if (_protected && type is not (StunAttributeType.MessageIntegritySha256 or StunAttributeType.Fingerprint))
        {
            throw new InvalidOperationException("Only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT can follow MESSAGE-INTEGRITY (RFC 8489 §14.5).");
        }

        int size = 4 + StunHeader.Pad4(valueLength);
        if (_overflowed || size > _buffer.Length - _length || _length + size - StunHeader.Length > ushort.MaxValue)
        {
            _overflowed = true;
            return [];
        }

        Span<byte> attribute = _buffer.Slice(_length, size);
        BinaryPrimitives.WriteUInt16BigEndian(attribute, (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(attribute[2..], (ushort)valueLength);
        attribute[(4 + valueLength)..].Clear();
        _length += size;
        StunHeader.WriteMessageLength(_buffer, _length - StunHeader.Length);
        return attribute.Slice(4, valueLength);
    }

    /// <summary>MAPPED-ADDRESS or ALTERNATE-SERVER (RFC 8489 §14.1, §14.15).</summary>
    public void WriteAddress(StunAttributeType type, in TransportAddress address)
    {
        Span<byte> value = Reserve(type, StunAddressCodec.GetLength(address));
        if (!value.IsEmpty)
        {
            StunAddressCodec.Write(value, address);
        }
    }

    /// <summary>XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS or XOR-RELAYED-ADDRESS (RFC 8489 §14.2).</summary>
    public void WriteXorAddress(StunAttributeType type, in TransportAddress address)
    {
        Span<byte> value = Reserve(type, StunAddressCodec.GetLength(address));
        if (!value.IsEmpty)
        {
            StunAddressCodec.WriteXor(value, address, _transactionId);
        }
    }

    /// <summary>ERROR-CODE (RFC 8489 §14.8) with the RFC's reason phrase.</summary>
    public void WriteErrorCode(int code) => WriteErrorCode(code, StunErrorCode.GetDefaultReasonPhrase(code));

    /// <summary>ERROR-CODE (RFC 8489 §14.8) with a UTF-8 reason phrase of at most 763 bytes.</summary>
    public void WriteErrorCode(int code, scoped ReadOnlySpan<byte> reasonPhrase)
    {
        ThrowIfInvalidErrorCode(code, reasonPhrase);
        Span<byte> value = Reserve(StunAttributeType.ErrorCode, 4 + reasonPhrase.Length);
        if (!value.IsEmpty)
        {
            StunErrorCode.Write(value, 0, code, reasonPhrase);
        }
    }

    /// <summary>ADDRESS-ERROR-CODE (RFC 8656 §18.12) for the family that could not be allocated.</summary>
    public void WriteAddressErrorCode(StunAddressFamily family, int code) =>
        WriteAddressErrorCode(family, code, StunErrorCode.GetDefaultReasonPhrase(code));

    /// <summary>ADDRESS-ERROR-CODE (RFC 8656 §18.12) with a UTF-8 reason phrase.</summary>
    public void WriteAddressErrorCode(StunAddressFamily family, int code, scoped ReadOnlySpan<byte> reasonPhrase)
    {
        ThrowIfInvalidErrorCode(code, reasonPhrase);
        Span<byte> value = Reserve(StunAttributeType.AddressErrorCode, 4 + reasonPhrase.Length);
        if (!value.IsEmpty)
        {
            StunErrorCode.Write(value, (byte)family, code, reasonPhrase);
        }
    }

    /// <summary>UNKNOWN-ATTRIBUTES (RFC 8489 §14.13): the types a 420 response rejects.</summary>
    public void WriteUnknownAttributes(scoped ReadOnlySpan<StunAttributeType> types)
    {
        Span<byte> value = Reserve(StunAttributeType.UnknownAttributes, 2 * types.Length);
        for (int i = 0; i < types.Length && !value.IsEmpty; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value[(2 * i)..], (ushort)types[i]);
        }
    }

    /// <summary>LIFETIME in seconds (RFC 8656 §18.2).</summary>
    public void WriteLifetime(uint seconds)
    {
        Span<byte> value = Reserve(StunAttributeType.Lifetime, 4);
        if (!value.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32BigEndian(value, seconds);
        }
    }

    /// <summary>CHANNEL-NUMBER (RFC 8656 §18.1), followed by two reserved zero bytes.</summary>
    public void WriteChannelNumber(ushort channelNumber)
    {
        Span<byte> value = Reserve(StunAttributeType.ChannelNumber, 4);
        if (!value.IsEmpty)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value, channelNumber);
            value[2..].Clear();
        }
    }

    /// <summary>REQUESTED-TRANSPORT (RFC 8656 §18.8): an IP protocol number, 17 for UDP.</summary>
    public void WriteRequestedTransport(byte protocol) => WriteByteThenReserved(StunAttributeType.RequestedTransport, protocol);

    /// <summary>REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).</summary>
    public void WriteRequestedAddressFamily(StunAddressFamily family) =>
        WriteByteThenReserved(StunAttributeType.RequestedAddressFamily, (byte)family);

    /// <summary>ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).</summary>
    public void WriteAdditionalAddressFamily(StunAddressFamily family) =>
        WriteByteThenReserved(StunAttributeType.AdditionalAddressFamily, (byte)family);

    /// <summary>EVEN-PORT (RFC 8656 §18.7): one byte, the R bit asking to reserve the next port too.</summary>
    public void WriteEvenPort(bool reserveNextPort)
    {
        Span<byte> value = Reserve(StunAttributeType.EvenPort, 1);
        if (!value.IsEmpty)
        {
            value[0] = reserveNextPort ? (byte)0x80 : (byte)0;
        }
    }

    /// <summary>DONT-FRAGMENT (RFC 8656 §18.9), which has no value.</summary>
    public void WriteDontFragment() => Reserve(StunAttributeType.DontFragment, 0);

    /// <summary>RESERVATION-TOKEN (RFC 8656 §18.10): exactly 8 bytes.</summary>
    public void WriteReservationToken(scoped ReadOnlySpan<byte> token)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(token.Length, 8, nameof(token));
        WriteAttribute(StunAttributeType.ReservationToken, token);
    }

    /// <summary>DATA (RFC 8656 §18.4).</summary>
    public void WriteData(scoped ReadOnlySpan<byte> data) => WriteAttribute(StunAttributeType.Data, data);

    /// <summary>USERNAME (RFC 8489 §14.3), UTF-8.</summary>
    public void WriteUsername(scoped ReadOnlySpan<byte> username) => WriteAttribute(StunAttributeType.Username, username);

    /// <summary>USERHASH (RFC 8489 §14.4), 32 bytes.</summary>
    public void WriteUserHash(scoped ReadOnlySpan<byte> userHash)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(userHash.Length, StunIntegrity.UserHashLength, nameof(userHash));
        WriteAttribute(StunAttributeType.UserHash, userHash);
    }

    /// <summary>REALM (RFC 8489 §14.9), UTF-8.</summary>
    public void WriteRealm(scoped ReadOnlySpan<byte> realm) => WriteAttribute(StunAttributeType.Realm, realm);

    /// <summary>NONCE (RFC 8489 §14.10).</summary>
    public void WriteNonce(scoped ReadOnlySpan<byte> nonce) => WriteAttribute(StunAttributeType.Nonce, nonce);

    /// <summary>SOFTWARE (RFC 8489 §14.14), UTF-8.</summary>
    public void WriteSoftware(scoped ReadOnlySpan<byte> software) => WriteAttribute(StunAttributeType.Software, software);

    /// <summary>Any text attribute (USERNAME, REALM, NONCE, SOFTWARE) from a string, encoded straight into place.</summary>
    public void WriteText(StunAttributeType type, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Span<byte> value = Reserve(type, Encoding.UTF8.GetByteCount(text));
        if (!value.IsEmpty)
        {
            Encoding.UTF8.GetBytes(text, value);
        }
    }

    /// <summary>PASSWORD-ALGORITHM (RFC 8489 §14.12): the algorithm chosen, without parameters.</summary>
    public void WritePasswordAlgorithm(StunPasswordAlgorithm algorithm) =>
        WritePasswordAlgorithmList(StunAttributeType.PasswordAlgorithm, [algorithm]);

    /// <summary>PASSWORD-ALGORITHMS (RFC 8489 §14.11): the algorithms offered, without parameters.</summary>
    public void WritePasswordAlgorithms(scoped ReadOnlySpan<StunPasswordAlgorithm> algorithms) =>
        WritePasswordAlgorithmList(StunAttributeType.PasswordAlgorithms, algorithms);

    /// <summary>
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 with <paramref name="key"/> over everything written so far,
    /// the length field counting this attribute. Only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow.
    /// </summary>
    public void WriteMessageIntegrity(scoped ReadOnlySpan<byte> key) => WriteIntegrity(StunIntegrity.Algorithm.Sha1, StunIntegrity.Sha1Length, key);

    /// <summary>MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), full 32 bytes. Only FINGERPRINT may follow.</summary>
    public void WriteMessageIntegritySha256(scoped ReadOnlySpan<byte> key) =>
        WriteIntegrity(StunIntegrity.Algorithm.Sha256, StunIntegrity.Sha256Length, key);

    /// <summary>FINGERPRINT (RFC 8489 §14.7); the message is finished after it.</summary>
    public void WriteFingerprint()
    {
        int offset = _length;
        Span<byte> value = Reserve(StunAttributeType.Fingerprint, StunFingerprint.ValueLength);
        if (!value.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32BigEndian(value, StunFingerprint.Compute(_buffer[..offset]));
        }

        _finished = true;
    }

    private void WriteIntegrity(StunIntegrity.Algorithm algorithm, int length, scoped ReadOnlySpan<byte> key)
    {
        int offset = _length;
        // Reserve first: it sets the length field to include this attribute, as the HMAC input requires.
        Span<byte> value = Reserve(algorithm == StunIntegrity.Algorithm.Sha1 ? StunAttributeType.MessageIntegrity : StunAttributeType.MessageIntegritySha256, length);
        if (!value.IsEmpty)
        {
            StunIntegrity.ComputeMac(algorithm, key, _buffer[..offset], value);
        }

        _protected = true;
    }

    private void WriteByteThenReserved(StunAttributeType type, byte first)
    {
        Span<byte> value = Reserve(type, 4);
        if (!value.IsEmpty)
        {
            value[0] = first;
            value[1..].Clear();
        }
    }

    private void WritePasswordAlgorithmList(StunAttributeType type, scoped ReadOnlySpan<StunPasswordAlgorithm> algorithms)
    {
        Span<byte> value = Reserve(type, 4 * algorithms.Length);
        for (int i = 0; i < algorithms.Length && !value.IsEmpty; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value[(4 * i)..], (ushort)algorithms[i]);
            BinaryPrimitives.WriteUInt16BigEndian(value[((4 * i) + 2)..], 0);
        }
    }

    private static void ThrowIfInvalidErrorCode(int code, ReadOnlySpan<byte> reasonPhrase)
    {
        if (!StunErrorCode.IsValid(code))
        {
            throw new ArgumentOutOfRangeException(nameof(code), code, "STUN error codes are 300-699 (RFC 8489 §14.8).");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(reasonPhrase.Length, 763, nameof(reasonPhrase));
    }
}
