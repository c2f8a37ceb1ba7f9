using Microsoft.AspNetCore.Http;

namespace Parley.Signaling;

/// <summary>
/// Which web pages may open the signaling socket. Browsers send <c>Origin</c> with every WebSocket handshake and
/// let any page connect anywhere, so without this check another site could use a Parley server — one on a private
/// LAN included — from its visitors' browsers: join guessable rooms, take TURN credentials.
/// </summary>
public static class SignalingOrigin
{
    /// <summary>True for a request with no Origin (not a browser), from a page of this host, or from a listed origin.</summary>
    public static bool IsAllowed(HttpRequest request, IReadOnlyList<string> allowedOrigins)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
            return true;
        if (allowedOrigins.Contains("*"))
            return true;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri))
            return false;
        // Same host name as the request (the port may differ behind a proxy that forwards Host without it).
        if (Uri.TryCreate("http://" + request.Host.Value, UriKind.Absolute, out var host)
            && string.Equals(uri.IdnHost, host.IdnHost, StringComparison.OrdinalIgnoreCase))
            return true;
        return allowedOrigins.Any(allowed => string.Equals(allowed.TrimEnd('/'), uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>An absolute http(s) URL with nothing after the authority.</summary>
    public static bool IsOrigin(string value) =>
        Uri.TryCreate(value.TrimEnd('/'), UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && uri.GetLeftPart(UriPartial.Authority).Equals(value.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
