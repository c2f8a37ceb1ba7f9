using System.Net;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Parley.Server.Https;

namespace Parley.Server.Proxy;

/// <summary>
/// Behind a reverse proxy: forwarded client address and scheme believed only from configured proxies, and a path
/// base (e.g. /parley) under which the app, invite links, static files and /ws all work.
/// </summary>
public static class ProxySetup
{
    public static void AddParleyProxy(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProxyOptions>().Bind(builder.Configuration.GetSection(ProxyOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxy) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = proxy.Value.ForwardLimit;
            // ASP.NET Core trusts loopback by default; Parley trusts only what is configured.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var address in proxy.Value.KnownProxies)
            {
                if (IPAddress.TryParse(address, out var parsed))
                    forwarded.KnownProxies.Add(parsed);
            }
            foreach (var network in proxy.Value.KnownNetworks)
            {
                if (System.Net.IPNetwork.TryParse(network, out var parsed))
                    forwarded.KnownIPNetworks.Add(parsed);
            }
        });
    }

    /// <summary>
    /// Forwarded headers (only with configured proxies), then the path base, then routing, so endpoints match the
    /// path below the base. Call first, before anything that reads the scheme, client address or path.
    /// </summary>
    public static void UseParleyProxy(this WebApplication app)
    {
        // Raw configuration: resolving the validated options here would throw before startup can report every problem.
        var proxy = HttpsSetup.ReadLeniently<ProxyOptions>(app.Configuration.GetSection(ProxyOptions.SectionName));
        if (proxy.TrustsAnyProxy)
            app.UseForwardedHeaders();
        var pathBase = PathBase(app.Configuration);
        if (pathBase.HasValue)
            app.UsePathBase(pathBase);
        app.UseRouting();
    }

    /// <summary>The configured path base, normalized ("/parley/" → "/parley"); empty if none or invalid.</summary>
    public static PathString PathBase(IConfiguration configuration) =>
        TryNormalizePathBase(configuration[$"{ProxyOptions.SectionName}:{nameof(ProxyOptions.PathBase)}"], out var pathBase) ? pathBase : PathString.Empty;

    internal static bool TryNormalizePathBase(string? value, out PathString pathBase)
    {
        pathBase = PathString.Empty;
        if (string.IsNullOrEmpty(value) || value == "/")
            return true;
        if (value[0] != '/' || value.IndexOfAny(['?', '#', ' ', '\\']) >= 0 || value.Contains("//", StringComparison.Ordinal))
            return false;
        pathBase = new PathString(value.TrimEnd('/'));
        return true;
    }

    /// <summary>
    /// The single page (web/ui/index.html) with its <c>&lt;base href&gt;</c> set to the request's path base, so the
    /// scripts, styles, invite links and the WebSocket URL (all relative to it) work under /parley/ too.
    /// </summary>
    public static async Task<IResult> IndexPage(IFileInfo index, HttpRequest request)
    {
        var pathBase = request.PathBase;
        if (!pathBase.HasValue)
            return Results.Stream(index.CreateReadStream(), "text/html; charset=utf-8");
        using var reader = new StreamReader(index.CreateReadStream());
        var html = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        var href = HtmlEncoder.Default.Encode(pathBase.ToUriComponent() + "/");
        return Results.Text(html.Replace("<base href=\"/\">", $"<base href=\"{href}\">", StringComparison.Ordinal), "text/html; charset=utf-8");
    }
}
