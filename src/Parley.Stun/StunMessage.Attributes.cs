using System.Buffers.Binary;

namespace Parley.Stun;

// Typed accessors for the attributes of RFC 8489 §14 and RFC 8656 §18. Each reads the first counted attribute of its
// type and returns false when it is absent or its value is malformed; none throws or allocates.
public readonly ref partial struct StunMessage
{
    /// <summary>XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS or XOR-RELAYED-ADDRESS, decoded (RFC 8489 §14.2).</summary>
    public bool TryGetXorAddress(StunAttributeType type, out TransportAddress address)
    {
        address = default;
        return TryGetAttribute(type, out ReadOnlySpan<byte> value) && StunAddressCodec.TryReadXor(value, TransactionId, out address);
    }

    /// <summary>MAPPED-ADDRESS or ALTERNATE-SERVER, decoded (RFC 8489 §14.1, §14.15).</summary>
    public bool TryGetAddress(StunAttributeType type, out TransportAddress address)
    {
        address = default;
        return TryGetAttribute(type, out ReadOnlySpan<byte> value) && StunAddressCodec.TryRead(value, out address);
    }

    /// <summary>Decodes an XOR-ed address attribute reached by enumeration (several XOR-PEER-ADDRESS, RFC 8656 §10).</summary>
    public bool TryReadXorAddress(in StunAttribute attribute, out TransportAddress address) =>
        StunAddressCodec.TryReadXor(attribute.Value, TransactionId, out address);

    /// <summary>ERROR-CODE (RFC 8489 §14.8): code 300-699 and the UTF-8 reason phrase.</summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reasonPhrase)
    {
        code = 0;
        reasonPhrase = default;
        return TryGetAttribute(StunAttributeType.ErrorCode, out ReadOnlySpan<byte> value)
            && StunErrorCode.TryRead(value, out code, out reasonPhrase);
    }

    /// <summary>ADDRESS-ERROR-CODE (RFC 8656 §18.12): the family it concerns, code and reason phrase.</summary>
    public bool TryGetAddressErrorCode(out StunAddressFamily family, out int code, out ReadOnlySpan<byte> reasonPhrase)
    {
        family = 0;
        code = 0;
        reasonPhrase = default;
        if (!TryGetAttribute(StunAttributeType.AddressErrorCode, out ReadOnlySpan<byte> value) || value.Length < 4
            || !IsFamily(value[0]))
        {
            return false;
        }

        family = (StunAddressFamily)value[0];
        return StunErrorCode.TryRead(value, out code, out reasonPhrase);
    }

    /// <summary>UNKNOWN-ATTRIBUTES (RFC 8489 §14.13): copies the listed types; returns how many there are.</summary>
    public int GetUnknownAttributes(Span<StunAttributeType> destination)
    {
        if (!TryGetAttribute(StunAttributeType.UnknownAttributes, out ReadOnlySpan<byte> value))
        {
            return 0;
        }

        int count = value.Length / 2;
        for (int i = 0; i < count && i < destination.Length; i++)
        {
            destination[i] = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(value[(2 * i)..]);
        }

        return count;
    }

    /// <summary>LIFETIME in seconds (RFC 8656 §18.2).</summary>
    public bool TryGetLifetime(out uint seconds) => TryGetUInt32(StunAttributeType.Lifetime, out seconds);

    /// <summary>CHANNEL-NUMBER (RFC 8656 §18.1): the 16-bit number; range checks are the server's (§12).</summary>
    public bool TryGetChannelNumber(out ushort channelNumber)
    {
        channelNumber = 0;
        if (!TryGetAttribute(StunAttributeType.ChannelNumber, out ReadOnlySpan<byte> value) || value.Length != 4)
        {
            return false;
        }

        channelNumber = BinaryPrimitives.ReadUInt16BigEndian(value);
        return true;
    }

    /// <summary>REQUESTED-TRANSPORT (RFC 8656 §18.8): the IP protocol number (17 is UDP).</summary>
    public bool TryGetRequestedTransport(out byte protocol)
    {
        protocol = 0;
        if (!TryGetAttribute(StunAttributeType.RequestedTransport, out ReadOnlySpan<byte> value) || value.Length != 4)
        {
            return false;
        }

        protocol = value[0];
        return true;
    }

    /// <summary>REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).</summary>
    public bool TryGetRequestedAddressFamily(out StunAddressFamily family) =>
        TryGetFamily(StunAttributeType.RequestedAddressFamily, out family);

    /// <summary>ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11); only IPv6 is meaningful in an Allocate request.</summary>
    public bool TryGetAdditionalAddressFamily(out StunAddressFamily family) =>
        TryGetFamily(StunAttributeType.AdditionalAddressFamily, out family);

    /// <summary>EVEN-PORT (RFC 8656 §18.7): whether the R bit asks to reserve the next-higher port too.</summary>
    public bool TryGetEvenPort(out bool reserveNextPort)
    {
        reserveNextPort = false;
        if (!TryGetAttribute(StunAttributeType.EvenPort, out ReadOnlySpan<byte> value) || value.Length != 1)
        {
            return false;
        }

        reserveNextPort = (value[0] & 0x80) != 0;
        return true;
    }

    /// <summary>RESERVATION-TOKEN (RFC 8656 §18.10): 8 opaque bytes.</summary>
    public bool TryGetReservationToken(out ReadOnlySpan<byte> token) =>
        TryGetFixed(StunAttributeType.ReservationToken, 8, out token);

    /// <summary>DONT-FRAGMENT (RFC 8656 §18.9) is present.</summary>
    public bool HasDontFragment => HasAttribute(StunAttributeType.DontFragment);

    /// <summary>DATA (RFC 8656 §18.4): the application payload of a Send or Data indication.</summary>
    public bool TryGetData(out ReadOnlySpan<byte> data) => TryGetAttribute(StunAttributeType.Data, out data);

    /// <summary>USERNAME (RFC 8489 §14.3), UTF-8 bytes, at most 513.</summary>
    public bool TryGetUsername(out ReadOnlySpan<byte> username) => TryGetBounded(StunAttributeType.Username, 513, out username);

    /// <summary>USERHASH (RFC 8489 §14.4), 32 bytes.</summary>
    public bool TryGetUserHash(out ReadOnlySpan<byte> userHash) =>
        TryGetFixed(StunAttributeType.UserHash, StunIntegrity.UserHashLength, out userHash);

    /// <summary>REALM (RFC 8489 §14.9), UTF-8 bytes, at most 763.</summary>
    public bool TryGetRealm(out ReadOnlySpan<byte> realm) => TryGetBounded(StunAttributeType.Realm, 763, out realm);

    /// <summary>NONCE (RFC 8489 §14.10), at most 763 bytes.</summary>
    public bool TryGetNonce(out ReadOnlySpan<byte> nonce) => TryGetBounded(StunAttributeType.Nonce, 763, out nonce);

    /// <summary>SOFTWARE (RFC 8489 §14.14), UTF-8 bytes, at most 763.</summary>
    public bool TryGetSoftware(out ReadOnlySpan<byte> software) => TryGetBounded(StunAttributeType.Software, 763, out software);

    /// <summary>PASSWORD-ALGORITHM (RFC 8489 §14.12): the algorithm the client chose.</summary>
    public bool TryGetPasswordAlgorithm(out StunPasswordAlgorithm algorithm)
    {
        algorithm = 0;
        if (!TryGetAttribute(StunAttributeType.PasswordAlgorithm, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        var entries = new PasswordAlgorithmEnumerator(value);
        if (!entries.MoveNext() || !entries.IsAtEnd)
        {
            return false;
        }

        algorithm = entries.Current;
        return true;
    }

    /// <summary>PASSWORD-ALGORITHMS (RFC 8489 §14.11): the algorithms a server offers, in its order of preference.</summary>
    public bool TryGetPasswordAlgorithms(out PasswordAlgorithmEnumerator algorithms)
    {
        bool found = TryGetAttribute(StunAttributeType.PasswordAlgorithms, out ReadOnlySpan<byte> value);
        algorithms = new PasswordAlgorithmEnumerator(value);
        return found;
    }

    private bool TryGetUInt32(StunAttributeType type, out uint number)
    {
        number = 0;
        if (!TryGetAttribute(type, out ReadOnlySpan<byte> value) || value.Length != 4)
        {
            return false;
        }

        number = BinaryPrimitives.ReadUInt32BigEndian(value);
        return true;
    }

    private bool TryGetFamily(StunAttributeType type, out StunAddressFamily family)
    {
        family = 0;
        if (!TryGetAttribute(type, out ReadOnlySpan<byte> value) || value.Length != 4 || !IsFamily(value[0]))
        {
            return false;
        }

        family = (StunAddressFamily)value[0];
        return true;
    }

    private bool TryGetFixed(StunAttributeType type, int length, out ReadOnlySpan<byte> value) =>
        TryGetAttribute(type, out value) && value.Length == length;

    private bool TryGetBounded(StunAttributeType type, int maxLength, out ReadOnlySpan<byte> value) =>
        TryGetAttribute(type, out value) && value.Length <= maxLength;

    private static bool IsFamily(byte value) => value is (byte)StunAddressFamily.IPv4 or (byte)StunAddressFamily.IPv6;
}
