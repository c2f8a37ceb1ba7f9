namespace Parley.Stun;

/// <summary>
/// FINGERPRINT (RFC 8489 §14.7): the CRC-32 of the message up to the attribute, XOR 0x5354554E, computed with the
/// length field already counting the FINGERPRINT attribute. It is the last attribute.
/// </summary>
public static class StunFingerprint
{
    /// <summary>The FINGERPRINT value length.</summary>
    public const int ValueLength = 4;

    /// <summary>The XOR constant ("STUN" in ASCII).</summary>
    public const uint XorMask = 0x5354554E;

    /// <summary>The FINGERPRINT value for the message bytes that precede the attribute.</summary>
    public static uint Compute(ReadOnlySpan<byte> precedingBytes) => Crc32.Compute(precedingBytes) ^ XorMask;
}

/// <summary>
/// CRC-32 as in ISO/IEC 13239, ITU-T V.42 and zlib (reflected polynomial 0xEDB88320), table-driven: the BCL has no
/// public IEEE CRC-32 and System.IO.Hashing is not restorable from our package source.
/// </summary>
internal static class Crc32
{
    private static readonly uint[] s_table = CreateTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        uint[] table = s_table;
        foreach (byte b in data)
        {
            crc = table[(byte)(crc ^ b)] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
