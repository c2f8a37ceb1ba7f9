using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Parley.Stun;

namespace Parley.Turn;

/// <summary>
/// Stateless nonces (RFC 8489 §9.2): 4 bytes of issue time (Unix seconds) and 8 bytes of HMAC-SHA256 over that time
/// and the client's IP under a per-process random key, base64url: 16 characters. Short on purpose (the 401 must stay
/// small, see <see cref="TurnOptions.UnauthenticatedResponseFloor"/>); a nonce minted for one IP fails on another.
/// </summary>
internal sealed class NonceService(TimeProvider timeProvider, TimeSpan lifetime)
{
    public const int Length = 16;
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public int Write(in TransportAddress client, Span<byte> destination)
    {
        Span<byte> raw = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(raw, (uint)timeProvider.GetUtcNow().ToUnixTimeSeconds());
        Sign(raw[..4], client, raw[4..]);
        return Base64Url(raw, destination);
    }

    public enum Check
    {
        Valid,
        Stale,
        Invalid,
    }

    public Check Validate(ReadOnlySpan<byte> nonce, in TransportAddress client)
    {
        Span<byte> raw = stackalloc byte[12];
        if (nonce.Length != Length || !System.Buffers.Text.Base64Url.TryDecodeFromUtf8(nonce, raw, out int written) || written != 12)
        {
            return Check.Invalid;
        }

        Span<byte> mac = stackalloc byte[8];
        Sign(raw[..4], client, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, raw[4..]))
        {
            return Check.Invalid;
        }

        long issued = BinaryPrimitives.ReadUInt32BigEndian(raw);
        long now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        return now - issued >= (long)lifetime.TotalSeconds || issued > now + 1 ? Check.Stale : Check.Valid;
    }

    private void Sign(ReadOnlySpan<byte> time, in TransportAddress client, Span<byte> mac)
    {
        Span<byte> input = stackalloc byte[20];
        time.CopyTo(input);
        int length = 4 + client.WithoutPort().MapToIPv4().WriteAddressBytes(input[4..]);
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
/// MD5(username:realm:base64(HMAC-SHA1(secret, username))) for each secret in turn.
/// </summary>
internal sealed class CredentialVerifier(IReadOnlyList<string> secrets, string realm, TimeProvider timeProvider)
{
    private readonly byte[][] _secrets = [.. secrets.Select(Encoding.UTF8.GetBytes)];
    private readonly byte[] _realm = Encoding.UTF8.GetBytes(realm);

    public byte[] Realm => _realm;

    /// <summary>
    /// Finds the secret whose key verifies MESSAGE-INTEGRITY; writes the 16-byte key. Does not look at the expiry.
    /// </summary>
    public bool TryVerify(StunMessage request, ReadOnlySpan<byte> username, Span<byte> key)
    {
        Span<byte> mac = stackalloc byte[20];
        Span<byte> password = stackalloc byte[28];
        foreach (byte[] secret in _secrets)
        {
#pragma warning disable CA5350 // HMAC-SHA1 is the TURN REST scheme coturn implements.
            HMACSHA1.HashData(secret, username, mac);
#pragma warning restore CA5350
            System.Buffers.Text.Base64.EncodeToUtf8(mac, password, out _, out int written);
            StunIntegrity.DeriveLongTermKey(StunPasswordAlgorithm.Md5, username, _realm, password[..written], key);
            if (request.VerifyMessageIntegrity(key[..16]))
            {
                return true;
            }
        }

        return false;
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
