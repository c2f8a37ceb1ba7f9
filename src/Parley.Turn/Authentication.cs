using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Parley.Stun;

namespace Parley.Turn;

/// <summary>
/// The STUN Security Features a server announces in its nonce cookie (RFC 8489 §9.2.1, IANA "STUN Security Features").
/// Bit 0 is the least significant bit of the 24 (verified erratum 6290: the registry counts from the right, so the
/// Appendix B.1 nonce "obMatJos2AAAC", with USERHASH, has bit 1 set).
/// </summary>
[Flags]
internal enum SecurityFeatures
{
    None = 0,

    /// <summary>Bit 0, "Password algorithms": PASSWORD-ALGORITHMS is offered (§9.2.4).</summary>
    PasswordAlgorithms = 1 << 0,

    /// <summary>Bit 1, "Username anonymity": USERHASH accepted. Never set by Parley (see docs/turn.md).</summary>
    UsernameAnonymity = 1 << 1,
}

/// <summary>
/// Stateless nonces (RFC 8489 §9.2): 4 bytes of issue time (Unix seconds) and 8 bytes of HMAC-SHA256 over that time
/// and the client's IP under a per-process random key, base64url: 16 characters. Short on purpose (the 401 must stay
/// small, see <see cref="TurnOptions.UnauthenticatedResponseFloor"/>); a nonce minted for one IP fails on another.
/// <para>
/// With security features (RFC 8489 §9.2.1) the same 16 characters follow the nonce cookie: "obMatJos2" and the 24
/// feature bits in 4 base64 characters, 29 characters in all, and the HMAC covers the feature bits too. A client
/// echoes the nonce under its MESSAGE-INTEGRITY, so an attacker who strips the cookie or its bits from a challenge
/// (bid-down) makes the nonce invalid (438), never a valid nonce without the offer.
/// </para>
/// </summary>
internal sealed class NonceService(TimeProvider timeProvider, TimeSpan lifetime)
{
    public const int Length = 16;
    public const int CookieLength = 13; // "obMatJos2" + 4 base64 characters of the 24 feature bits
    public const int MaxLength = CookieLength + Length;
    private static ReadOnlySpan<byte> Cookie => "obMatJos2"u8;

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public int Write(in TransportAddress client, SecurityFeatures features, Span<byte> destination)
    {
        int offset = 0;
        Span<byte> bits = stackalloc byte[3];
        if (features != SecurityFeatures.None)
        {
            WriteFeatureBits(features, bits);
            Cookie.CopyTo(destination);
            System.Buffers.Text.Base64.EncodeToUtf8(bits, destination[Cookie.Length..], out _, out int encoded);
            offset = Cookie.Length + encoded;
        }

        Span<byte> raw = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(raw, (uint)timeProvider.GetUtcNow().ToUnixTimeSeconds());
        Sign(features == SecurityFeatures.None ? [] : bits, raw[..4], client, raw[4..]);
        return offset + Base64Url(raw, destination[offset..]);
    }

    public enum Check
    {
        Valid,
        Stale,
        Invalid,
    }

    /// <summary>
    /// Checks a nonce this process minted for <paramref name="client"/>; <paramref name="features"/> are those of its
    /// cookie (None without one), to be trusted only when the result is not <see cref="Check.Invalid"/>.
    /// </summary>
    public Check Validate(ReadOnlySpan<byte> nonce, in TransportAddress client, out SecurityFeatures features)
    {
        features = SecurityFeatures.None;
        Span<byte> bits = stackalloc byte[3];
        bool hasCookie = nonce.StartsWith(Cookie);
        if (hasCookie)
        {
            if (nonce.Length != MaxLength
                || System.Buffers.Text.Base64.DecodeFromUtf8(nonce[Cookie.Length..CookieLength], bits, out _, out int decoded) != System.Buffers.OperationStatus.Done
                || decoded != 3)
            {
                return Check.Invalid;
            }

            features = (SecurityFeatures)((bits[0] << 16) | (bits[1] << 8) | bits[2]);
            nonce = nonce[CookieLength..];
        }

        Span<byte> raw = stackalloc byte[12];
        if (nonce.Length != Length || !System.Buffers.Text.Base64Url.TryDecodeFromUtf8(nonce, raw, out int written) || written != 12)
        {
            return Check.Invalid;
        }

        Span<byte> mac = stackalloc byte[8];
        Sign(hasCookie ? bits : [], raw[..4], client, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, raw[4..]))
        {
            features = SecurityFeatures.None;
            return Check.Invalid;
        }

        long issued = BinaryPrimitives.ReadUInt32BigEndian(raw);
        long now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        return now - issued >= (long)lifetime.TotalSeconds || issued > now + 1 ? Check.Stale : Check.Valid;
    }

    private static void WriteFeatureBits(SecurityFeatures features, Span<byte> bits)
    {
        bits[0] = (byte)((int)features >> 16);
        bits[1] = (byte)((int)features >> 8);
        bits[2] = (byte)features;
    }

    // Without a cookie the MAC input is time and IP, exactly as before security features; with one, the feature bits
    // come first, so that a nonce with its bits changed does not verify.
    private void Sign(ReadOnlySpan<byte> featureBits, ReadOnlySpan<byte> time, in TransportAddress client, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[23];
        featureBits.CopyTo(input);
        int length = featureBits.Length;
        time.CopyTo(input[length..]);
        length += 4;
        length += client.WithoutPort().MapToIPv4().WriteAddressBytes(input[length..]);
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(_key, input[..length], full);
        full[..mac.Length].CopyTo(mac);
    }

    private static int Base64Url(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        System.Buffers.Text.Base64Url.EncodeToUtf8(raw, destination, out _, out int written);
        return written;
    }
}

/// <summary>The outcome of checking a request's long-term credentials (RFC 8489 §9.2.4).</summary>
internal enum AuthResult
{
    Ok,
    MissingCredentials, // 401 with REALM and NONCE, not counted as a failure
    BadRequest,         // 400: some but not all of USERNAME, REALM, NONCE, MESSAGE-INTEGRITY
    StaleNonce,         // 438
    WrongCredentials,   // 401, counted as a failure
    Expired,            // 401, counted as a failure
}

/// <summary>
/// Long-term credentials with TURN REST usernames and several shared secrets at once (rotation): the key is
/// MD5 or SHA-256 of username:realm:base64(HMAC-SHA1(secret, username)) (RFC 8489 §9.2.2) for each secret in turn.
/// <para>
/// §9.2.2 hashes OpaqueString(realm) and OpaqueString(password) (RFC 8265). The password, base64, is ASCII without
/// controls or spaces, which OpaqueString leaves as it is; the realm is used as configured, and
/// <see cref="TurnOptionsValidator"/> refuses one with controls or non-ASCII spaces, which OpaqueString would reject or
/// change (NFC of a non-ASCII realm is the operator's, see there). So the bytes hashed here are the processed ones,
/// for MD5 as before and for SHA-256. The username is hashed as the client sent it
/// (the client prepares it, §14.3). Keys are derived per request, as before: no per-packet path authenticates.
/// </para>
/// </summary>
internal sealed class CredentialVerifier(IReadOnlyList<string> secrets, string realm, TimeProvider timeProvider)
{
    private readonly byte[][] _secrets = [.. secrets.Select(Encoding.UTF8.GetBytes)];
    private readonly byte[] _realm = Encoding.UTF8.GetBytes(realm);

    public byte[] Realm => _realm;

    /// <summary>
    /// Finds the secret whose key, derived with <paramref name="algorithm"/>, verifies the request's
    /// MESSAGE-INTEGRITY-SHA256 when <paramref name="sha256Integrity"/>, else its MESSAGE-INTEGRITY; writes the key
    /// (16 bytes for MD5, 32 for SHA-256) and returns its length, or 0 if no secret verifies. Does not look at the expiry.
    /// </summary>
    public int TryVerify(StunMessage request, ReadOnlySpan<byte> username, StunPasswordAlgorithm algorithm, bool sha256Integrity, Span<byte> key)
    {
        Span<byte> mac = stackalloc byte[20];
        Span<byte> password = stackalloc byte[28];
        foreach (byte[] secret in _secrets)
        {
#pragma warning disable CA5350 // HMAC-SHA1 is the TURN REST scheme coturn implements.
            HMACSHA1.HashData(secret, username, mac);
#pragma warning restore CA5350
            System.Buffers.Text.Base64.EncodeToUtf8(mac, password, out _, out int written);
            int length = StunIntegrity.DeriveLongTermKey(algorithm, username, _realm, password[..written], key);
            if (sha256Integrity ? request.VerifyMessageIntegritySha256(key[..length]) : request.VerifyMessageIntegrity(key[..length]))
            {
                return length;
            }
        }

        return 0;
    }

    /// <summary>Whether the REST username's expiry has passed; unparsable usernames count as expired.</summary>
    public bool IsExpired(string username) =>
        !TurnCredentials.TryParseUsername(username, out long expiry, out _) || expiry <= timeProvider.GetUtcNow().ToUnixTimeSeconds();
}

/// <summary>
/// Counts failed authentications per source IP in fixed windows. Once an IP reaches the limit, its requests are
/// dropped without any cryptographic work or response until the window ends: RFC 8656 has no 429, and silence gives
/// a password-guessing or reflection attacker nothing.
/// </summary>
internal sealed class FailedAuthLimiter(int limit, TimeSpan window, TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<TransportAddress, Entry> _entries = new();

    private sealed class Entry
    {
        public long WindowStart;
        public int Failures;
    }

    public bool IsBlocked(in TransportAddress client)
    {
        if (_entries.IsEmpty || !_entries.TryGetValue(client.WithoutPort(), out Entry? entry))
        {
            return false;
        }

        lock (entry)
        {
            return entry.Failures >= limit && timeProvider.GetElapsedTime(entry.WindowStart) < window;
        }
    }

    public void RecordFailure(in TransportAddress client)
    {
        Entry entry = _entries.GetOrAdd(client.WithoutPort(), _ => new Entry { WindowStart = timeProvider.GetTimestamp() });
        lock (entry)
        {
            if (timeProvider.GetElapsedTime(entry.WindowStart) >= window)
            {
                entry.WindowStart = timeProvider.GetTimestamp();
                entry.Failures = 0;
            }

            entry.Failures++;
        }
    }

    public void Sweep()
    {
        foreach (KeyValuePair<TransportAddress, Entry> pair in _entries)
        {
            if (timeProvider.GetElapsedTime(pair.Value.WindowStart) >= window)
            {
                _entries.TryRemove(pair);
            }
        }
    }
}

/// <summary>A token bucket in bytes: <c>rate</c> bytes per second, one second of burst. Not thread-safe: callers lock.</summary>
internal struct TokenBucket(long bytesPerSecond, long now)
{
    private double _tokens = bytesPerSecond;
    private long _last = now;

    public bool TryTake(int bytes, long now, long frequency)
    {
        if (bytesPerSecond <= 0)
        {
            return true;
        }

        double elapsed = (double)(now - _last) / frequency;
        _last = now;
        _tokens = Math.Min(bytesPerSecond, _tokens + (elapsed * bytesPerSecond));
        if (_tokens < bytes)
        {
            return false;
        }

        _tokens -= bytes;
        return true;
    }
}
