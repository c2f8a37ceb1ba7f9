using System.Security.Cryptography;
using System.Text;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

/// <summary>
/// Builds the ICE server list a browser gets. TURN servers configured with a shared secret get short-lived
/// credentials minted per peer with the TURN REST scheme that coturn's <c>use-auth-secret</c> checks:
/// username <c>&lt;unix-expiry&gt;:&lt;peer id&gt;</c>, password <c>base64(HMAC-SHA1(secret, username))</c>.
/// </summary>
public sealed class IceServerProvider(SignalingOptions options, TimeProvider time)
{
    /// <summary>The list for <paramref name="peerId"/>, and when its minted credentials expire (null if none are minted).</summary>
    public (IReadOnlyList<IceServer> Servers, DateTimeOffset? ExpiresAt) For(string peerId)
    {
        var expiresAt = time.GetUtcNow() + options.TurnCredentialLifetime;
        var minted = false;
        var servers = new List<IceServer>(options.IceServers.Count);
        foreach (var server in options.IceServers)
        {
            if (string.IsNullOrEmpty(server.SharedSecret))
            {
                servers.Add(new IceServer { Urls = [.. server.Urls], Username = server.Username, Credential = server.Credential });
                continue;
            }
            var username = TurnRestUsername(expiresAt, peerId);
            servers.Add(new IceServer { Urls = [.. server.Urls], Username = username, Credential = TurnRestPassword(server.SharedSecret, username) });
            minted = true;
        }
        return (servers, minted ? expiresAt : null);
    }

    public static string TurnRestUsername(DateTimeOffset expiresAt, string userId) =>
        expiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + userId;

    // HMAC-SHA1 is what the TURN REST scheme (and coturn) specifies; HMAC keeps it sound despite SHA-1's collisions.
#pragma warning disable CA5350
    public static string TurnRestPassword(string sharedSecret, string username) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.UTF8.GetBytes(username)));
#pragma warning restore CA5350
}
