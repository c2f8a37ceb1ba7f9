using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

/// <summary>
/// Builds the ICE server list a browser gets. TURN servers configured with a shared secret get short-lived
/// credentials minted per peer with the TURN REST scheme that coturn's <c>use-auth-secret</c> checks:
/// username <c>&lt;unix-expiry&gt;:&lt;peer id&gt;</c>, password <c>base64(HMAC-SHA1(secret, username))</c>.
/// <c>{host}</c> in a URL becomes the host the browser used to reach Parley, so one configuration serves a LAN
/// address, a hostname and localhost alike.
/// </summary>
public sealed class IceServerProvider(IOptions<SignalingOptions> options, TimeProvider time, IEnumerable<IIceServerSource> sources)
{
    public const string HostPlaceholder = "{host}";

    /// <summary>
    /// The list for <paramref name="peerId"/>, and when its minted credentials expire (null if none are minted).
    /// <paramref name="requestHost"/> (the Host header, validated here) replaces <c>{host}</c>; entries that need it are
    /// left out when it is missing or unusable.
    /// </summary>
    public (IReadOnlyList<IceServer> Servers, DateTimeOffset? ExpiresAt) For(string peerId, string? requestHost)
    {
        var host = UrlHost(requestHost);
        var expiresAt = time.GetUtcNow() + options.Value.TurnCredentialLifetime;
        var minted = false;
        var servers = new List<IceServer>();
        foreach (var server in options.Value.IceServers.Concat(sources.SelectMany(s => s.GetIceServers())))
        {
            var urls = server.Urls.Select(u => u.Contains(HostPlaceholder, StringComparison.Ordinal) && host is not null ? u.Replace(HostPlaceholder, host, StringComparison.Ordinal) : u)
                .Where(u => !u.Contains(HostPlaceholder, StringComparison.Ordinal))
                .ToList();
            if (urls.Count == 0)
                continue;
            if (string.IsNullOrEmpty(server.SharedSecret))
            {
                servers.Add(new IceServer { Urls = urls, Username = server.Username, Credential = server.Credential });
                continue;
            }
            var username = TurnRestUsername(expiresAt, peerId);
            servers.Add(new IceServer { Urls = urls, Username = username, Credential = TurnRestPassword(server.SharedSecret, username) });
            minted = true;
        }
        return (servers, minted ? expiresAt : null);
    }

    /// <summary>The host part of a Host header, fit for an ICE URL (IPv6 in brackets), or null.</summary>
    internal static string? UrlHost(string? hostHeader)
    {
        if (string.IsNullOrEmpty(hostHeader) || hostHeader.Length > 255)
            return null;
        string host;
        if (hostHeader.StartsWith('['))
        {
            var end = hostHeader.IndexOf(']', StringComparison.Ordinal);
            host = end < 0 ? "" : hostHeader[..(end + 1)];
        }
        else
        {
            var colon = hostHeader.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? hostHeader : hostHeader[..colon];
        }
        // A browser-supplied header: accept only what a host name or address can contain.
        return host.Length > 0 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']') ? host : null;
    }

    public static string TurnRestUsername(DateTimeOffset expiresAt, string userId) =>
        expiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + userId;

    // HMAC-SHA1 is what the TURN REST scheme (and coturn) specifies; HMAC keeps it sound despite SHA-1's collisions.
#pragma warning disable CA5350
    public static string TurnRestPassword(string sharedSecret, string username) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
}
