using Microsoft.Extensions.Options;

namespace Parley.Server.Https;

/// <summary>
/// HTTPS for the web app and signaling (section <c>"Https"</c>): a certificate from files, or LAN mode's generated
/// one. docs/configuration.md and docs/operations.md mirror it.
/// </summary>
public sealed class HttpsOptions
{
    public const string SectionName = "Https";

    /// <summary>
    /// The certificate: a PEM file (<c>fullchain.pem</c>; the key in <see cref="KeyPath"/> or in the same file) or a
    /// PFX/PKCS#12 file. Reloaded without a restart when the files change. Default none.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM <see cref="CertificatePath"/> (<c>privkey.pem</c>). Default none.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of the PFX file, or of an encrypted PEM key. Default none.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// LAN mode (<c>--lan</c>): generate a self-signed certificate for this machine's LAN addresses and host name,
    /// keep it in the data directory, listen on every interface and print a URL and QR code per address. Default false.
    /// </summary>
    public bool Lan { get; set; }

    /// <summary>The HTTPS port used when no URLs are configured (<c>--urls</c>). Default 8443.</summary>
    public int Port { get; set; } = 8443;

    /// <summary>Redirect plain-HTTP requests to HTTPS when HTTPS is on. Default true.</summary>
    public bool RedirectHttp { get; set; } = true;

    /// <summary>
    /// The port HTTP requests are redirected to, when it is not the one Parley listens on (a proxy or port forward
    /// in front). Default: the HTTPS port Parley listens on.
    /// </summary>
    public int? RedirectPort { get; set; }

    /// <summary>
    /// Send <c>Strict-Transport-Security</c> on HTTPS responses. Default: on with a configured certificate, off in LAN
    /// mode (a self-signed certificate must stay skippable in the browser).
    /// </summary>
    public bool? Hsts { get; set; }

    /// <summary>HSTS <c>max-age</c>. Default 365 days.</summary>
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Whether Parley serves HTTPS itself.</summary>
    public bool Enabled => Lan || !string.IsNullOrEmpty(CertificatePath);

    /// <summary>Whether HSTS is sent, after defaults.</summary>
    public bool EffectiveHsts => Enabled && (Hsts ?? !Lan);
}

/// <summary>Checks <see cref="HttpsOptions"/> (including that the certificate loads) and reports every problem at once.</summary>
internal sealed class HttpsOptionsValidator(IConfiguration configuration) : IValidateOptions<HttpsOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpsOptions options)
    {
        List<string> errors = [];
        var hasCertificate = !string.IsNullOrEmpty(options.CertificatePath);
        if (options.Lan && hasCertificate)
            errors.Add("Https:Lan and Https:CertificatePath are both set: LAN mode makes its own certificate; remove one of them.");
        if (!hasCertificate && !string.IsNullOrEmpty(options.KeyPath))
            errors.Add("Https:KeyPath is set without Https:CertificatePath: set the certificate too (fullchain.pem), or remove the key.");
        if (hasCertificate && !CertificateFiles.TryLoad(options, out _, out var problem))
            errors.Add(problem);
        if (options.Port is < 1 or > 65535)
            errors.Add($"Https:Port is {options.Port}: use a port 1-65535 (default 8443).");
        if (options.RedirectPort is < 1 or > 65535)
            errors.Add($"Https:RedirectPort is {options.RedirectPort}: use a port 1-65535, or remove it to redirect to the port Parley listens on.");
        if (options.HstsMaxAge <= TimeSpan.Zero)
            errors.Add($"Https:HstsMaxAge is {options.HstsMaxAge}: use a positive time, e.g. 365.00:00:00.");

        var urls = HttpsSetup.ConfiguredUrls(configuration);
        var httpsUrl = urls.Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        if (httpsUrl && !options.Enabled)
            errors.Add("--urls has an https:// address but there is no certificate: set Https:CertificatePath (and Https:KeyPath), or use --lan for a self-signed one.");
        if (options.Enabled && urls.Count > 0 && !httpsUrl)
            errors.Add($"HTTPS is configured but --urls ({string.Join(";", urls)}) has no https:// address: add one, e.g. https://0.0.0.0:{options.Port}.");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
