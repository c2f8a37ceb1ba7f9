using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Parley.Turn;

/// <summary>A TURN username and password for ICE server configuration.</summary>
/// <param name="Username"><c>"&lt;unix-expiry&gt;:&lt;user-id&gt;"</c>.</param>
/// <param name="Password"><c>base64(HMAC-SHA1(secret, username))</c>.</param>
/// <param name="ExpiresAt">When the username stops being accepted.</param>
public readonly record struct TurnCredential(string Username, string Password, DateTimeOffset ExpiresAt);

/// <summary>
/// The TURN REST credential scheme of coturn's <c>use-auth-secret</c> (draft-uberti-behave-turn-rest): the username is
/// <c>"&lt;unix-expiry&gt;:&lt;user-id&gt;"</c> and the password <c>base64(HMAC-SHA1(shared secret, username))</c>;
/// the long-term key is then MD5(username ":" realm ":" password) as for any long-term credential (RFC 8489 §9.2.2).
/// Credentials minted here work on coturn configured with the same secret, and the other way round.
/// </summary>
public static class TurnCredentials
{
    /// <summary>Mints a credential for <paramref name="userId"/> valid until <paramref name="expiresAt"/>.</summary>
    public static TurnCredential Create(string secret, string userId, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentNullException.ThrowIfNull(userId);
        if (userId.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("A user id must not contain ':' (it separates the expiry).", nameof(userId));
        }

        string username = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + ":" + userId;
        return new TurnCredential(username, ComputePassword(secret, username), expiresAt);
    }

    /// <summary>Mints a credential valid for <paramref name="lifetime"/> from <paramref name="timeProvider"/>'s now.</summary>
    public static TurnCredential Create(string secret, string userId, TimeSpan lifetime, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Create(secret, userId, timeProvider.GetUtcNow() + lifetime);
    }

    /// <summary>The password of <paramref name="username"/> under <paramref name="secret"/>.</summary>
    public static string ComputePassword(string secret, string username)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(username);
        Span<byte> mac = stackalloc byte[20];
#pragma warning disable CA5350 // HMAC-SHA1 is the TURN REST scheme coturn implements.
        HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(username), mac);
#pragma warning restore CA5350
        return Convert.ToBase64String(mac);
    }

    /// <summary>
    /// Splits a REST username into its expiry and user id. Usernames without ':' are taken as a bare expiry with an
    /// empty user id, as coturn does. False if the expiry is not a number.
    /// </summary>
    public static bool TryParseUsername(ReadOnlySpan<char> username, out long expiresUnixSeconds, out ReadOnlySpan<char> userId)
    {
        int colon = username.IndexOf(':');
        ReadOnlySpan<char> expiry = colon < 0 ? username : username[..colon];
        userId = colon < 0 ? [] : username[(colon + 1)..];
        return long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out expiresUnixSeconds);
    }
}
