using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Stun;

/// <summary>
/// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6), the long-term key (§9.2.2)
/// and USERHASH (§14.4). The HMAC covers the header and every attribute before the integrity attribute, with the
/// header's length field set as if the integrity attribute were the last one.
/// <para>
/// Strings are used as given: SASLprep (RFC 4013) / OpaqueString (RFC 8265) processing, if wanted, is the caller's.
/// </para>
/// </summary>
public static class StunIntegrity
{
    /// <summary>MESSAGE-INTEGRITY value length: an HMAC-SHA1.</summary>
    public const int Sha1Length = 20;

    /// <summary>MESSAGE-INTEGRITY-SHA256 full value length.</summary>
    public const int Sha256Length = 32;

    /// <summary>The shortest MESSAGE-INTEGRITY-SHA256 truncation allowed (§14.6).</summary>
    public const int Sha256MinLength = 16;

    /// <summary>USERHASH value length.</summary>
    public const int UserHashLength = 32;

    /// <summary>The largest long-term key (SHA-256).</summary>
    public const int MaxKeyLength = 32;

    private const int StackLimit = 1024;

    internal enum Algorithm
    {
        Sha1,
        Sha256,
    }

    /// <summary>
    /// The long-term credential key (RFC 8489 §9.2.2): MD5 or SHA-256 of <c>username ":" realm ":" password</c>.
    /// Writes 16 or 32 bytes to <paramref name="key"/> and returns how many.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An algorithm other than MD5 or SHA-256.</exception>
    public static int DeriveLongTermKey(StunPasswordAlgorithm algorithm, ReadOnlySpan<byte> username, ReadOnlySpan<byte> realm,
        ReadOnlySpan<byte> password, Span<byte> key)
    {
        int length = username.Length + 1 + realm.Length + 1 + password.Length;
        byte[]? rented = null;
        Span<byte> input = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        input = input[..length];
        username.CopyTo(input);
        input[username.Length] = (byte)':';
        realm.CopyTo(input[(username.Length + 1)..]);
        input[username.Length + 1 + realm.Length] = (byte)':';
        password.CopyTo(input[(username.Length + realm.Length + 2)..]);
        try
        {
            return algorithm switch
            {
#pragma warning disable CA5351 // MD5 is what RFC 8489 §9.2.2 and every TURN client use for MESSAGE-INTEGRITY keys.
                StunPasswordAlgorithm.Md5 => MD5.HashData(input, key),
#pragma warning restore CA5351
                StunPasswordAlgorithm.Sha256 => SHA256.HashData(input, key),
                _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown password algorithm."),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input); // it holds the password
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The long-term key from strings (UTF-8), for configuration and caches; allocates the result.</summary>
    public static byte[] DeriveLongTermKey(StunPasswordAlgorithm algorithm, string username, string realm, string password)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(realm);
        ArgumentNullException.ThrowIfNull(password);
        Span<byte> key = stackalloc byte[MaxKeyLength];
        int written = DeriveLongTermKey(algorithm, Encoding.UTF8.GetBytes(username), Encoding.UTF8.GetBytes(realm),
            Encoding.UTF8.GetBytes(password), key);
        return key[..written].ToArray();
    }

    /// <summary>USERHASH (RFC 8489 §14.4): SHA-256 of <c>username ":" realm</c>, 32 bytes.</summary>
    public static void ComputeUserHash(ReadOnlySpan<byte> username, ReadOnlySpan<byte> realm, Span<byte> userHash)
    {
        int length = username.Length + 1 + realm.Length;
        byte[]? rented = null;
        Span<byte> input = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        input = input[..length];
        username.CopyTo(input);
        input[username.Length] = (byte)':';
        realm.CopyTo(input[(username.Length + 1)..]);
        SHA256.HashData(input, userHash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Verifies the integrity attribute at attributeOffset of a received message, which must not be modified: the
    // covered prefix is copied so that its length field can be adjusted (§14.5).
    internal static bool Verify(ReadOnlySpan<byte> message, int attributeOffset, Algorithm algorithm, ReadOnlySpan<byte> key)
    {
        ReadOnlySpan<byte> expected = AttributeValue(message, attributeOffset);
        byte[]? rented = null;
        Span<byte> covered = attributeOffset <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(attributeOffset));
        covered = covered[..attributeOffset];
        message[..attributeOffset].CopyTo(covered);
        StunHeader.WriteMessageLength(covered, attributeOffset + 4 + expected.Length - StunHeader.Length);
        Span<byte> mac = stackalloc byte[Sha256Length];
        int macLength = ComputeMac(algorithm, key, covered, mac);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        // §14.6: a truncated MESSAGE-INTEGRITY-SHA256 is compared on its leading bytes.
        return expected.Length <= macLength && CryptographicOperations.FixedTimeEquals(mac[..expected.Length], expected);
    }

    // HMAC over prefix (whose length field is already adjusted); returns the MAC length.
    internal static int ComputeMac(Algorithm algorithm, ReadOnlySpan<byte> key, ReadOnlySpan<byte> prefix, Span<byte> mac) =>
        algorithm == Algorithm.Sha1
#pragma warning disable CA5350 // HMAC-SHA1 is what RFC 8489 §14.5 MESSAGE-INTEGRITY is.
            ? HMACSHA1.HashData(key, prefix, mac)
#pragma warning restore CA5350
            : HMACSHA256.HashData(key, prefix, mac);

    private static ReadOnlySpan<byte> AttributeValue(ReadOnlySpan<byte> message, int attributeOffset)
    {
        StunAttribute.TryReadAt(message, attributeOffset, message.Length, out _, out int valueLength);
        return message.Slice(attributeOffset + 4, valueLength);
    }
}
