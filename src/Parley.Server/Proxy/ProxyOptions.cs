using System.Net;
using Microsoft.Extensions.Options;

namespace Parley.Server.Proxy;

/// <summary>
/// Running behind a reverse proxy (section <c>"Proxy"</c>): which proxies' forwarded headers are believed, and the
/// path Parley is served under. docs/operations.md has a matching nginx site.
/// </summary>
public sealed class ProxyOptions
{
    public const string SectionName = "Proxy";

    /// <summary>
    /// Addresses of proxies whose <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> are believed, e.g.
    /// <c>["127.0.0.1"]</c>. Default none: forwarded headers are ignored from everyone.
    /// </summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of such proxies in CIDR form, e.g. <c>["10.0.0.0/8"]</c>. Default none.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row are processed (entries of <c>X-Forwarded-For</c> from the right). Default 1.</summary>
    public int ForwardLimit { get; set; } = 1;

    /// <summary>
    /// The path Parley is served under, e.g. <c>"/parley"</c> for https://example.org/parley/. The proxy passes the
    /// path unchanged. Default empty (the site root).
    /// </summary>
    public string PathBase { get; set; } = "";

    /// <summary>Whether forwarded headers are processed at all.</summary>
    public bool TrustsAnyProxy => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}

/// <summary>Checks <see cref="ProxyOptions"/> and reports every problem at once.</summary>
internal sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        List<string> errors = [];
        foreach (var proxy in options.KnownProxies)
        {
            if (!IPAddress.TryParse(proxy, out _))
                errors.Add($"Proxy:KnownProxies has '{proxy}', which is not an IP address: write the proxy's address, e.g. \"127.0.0.1\" (or a network in Proxy:KnownNetworks).");
        }
        foreach (var network in options.KnownNetworks)
        {
            if (!IPNetwork.TryParse(network, out _))
                errors.Add($"Proxy:KnownNetworks has '{network}', which is not a network in CIDR form: write e.g. \"10.0.0.0/8\" (the address must have no bits set beyond the prefix).");
        }
        if (options.ForwardLimit < 1)
            errors.Add($"Proxy:ForwardLimit is {options.ForwardLimit}: use 1 (one proxy) or the number of proxies in a row.");
        if (!ProxySetup.TryNormalizePathBase(options.PathBase, out _))
            errors.Add($"Proxy:PathBase is '{options.PathBase}': write a path starting with '/', e.g. \"/parley\", without query, fragment or spaces (empty for the site root).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
