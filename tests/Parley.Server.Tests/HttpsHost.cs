using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Parley.Server.Https;

namespace Parley.Server.Tests;

/// <summary>
/// The real host with any URLs (HTTP and HTTPS on loopback), its start-up output captured, and a middleware that
/// reports the client address and scheme the app saw (after forwarded headers) in response headers.
/// </summary>
public sealed class HttpsHost : IAsyncDisposable
{
    public const string SeenRemoteHeader = "X-Test-Seen-Remote";
    public const string SeenSchemeHeader = "X-Test-Seen-Scheme";

    private readonly StringWriter _output;

    private HttpsHost(WebApplication app, StringWriter output)
    {
        App = app;
        _output = output;
        var addresses = ParleyApp.BoundAddresses(app);
        Http = addresses.Where(a => a.StartsWith("http://", StringComparison.Ordinal)).Select(a => new Uri(a)).FirstOrDefault();
        Https = addresses.Where(a => a.StartsWith("https://", StringComparison.Ordinal)).Select(a => new Uri(a)).FirstOrDefault();
    }

    public WebApplication App { get; }

    public Uri? Http { get; }

    public Uri? Https { get; }

    /// <summary>What the host printed on start (URLs, LAN QR codes).</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    public ServerCertificate Certificate => App.Services.GetRequiredService<ServerCertificate>();

    public static Task<HttpsHost> StartAsync(string urls, params string[] settings) => StartAsync(urls, null, settings);

    /// <summary>Starts the host; <paramref name="configure"/> may change what configuration cannot (Kestrel's limits).</summary>
    public static async Task<HttpsHost> StartAsync(string urls, Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        var output = new StringWriter();
        var app = Build(urls, output, configure, settings);
        await app.StartAsync();
        return new HttpsHost(app, output);
    }

    public static WebApplication Build(string urls, StringWriter? output = null, params string[] settings) => Build(urls, output, null, settings);

    private static WebApplication Build(string urls, StringWriter? output, Action<WebApplicationBuilder>? configure, string[] settings)
    {
        output ??= new StringWriter();
        return ParleyApp.Build(
            ["--urls", urls, "--Signaling:ResumeKey=" + RunningServer.ResumeKey, "--Logging:LogLevel:Default=Warning",
             "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Turn:RelayAddresses:0=127.0.0.1", .. settings],
            builder =>
            {
                builder.Services.AddSingleton(new StartupOutput(TextWriter.Synchronized(output)));
                builder.Services.AddSingleton<IStartupFilter, SeenByAppReporter>();
                configure?.Invoke(builder);
            });
    }

    /// <summary>An HTTP client that accepts the tests' self-signed certificates and does not follow redirects.</summary>
    public static HttpClient Client() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = AcceptTestCertificate },
    }) { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Every certificate in these tests is self-signed on purpose; which one was shown is what tests check.</summary>
    private static bool AcceptTestCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null;

    /// <summary>The certificate a new TLS connection to <paramref name="endpoint"/> is shown.</summary>
    public static async Task<X509Certificate2> PresentedCertificateAsync(Uri endpoint, string serverName = "localhost")
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
        X509Certificate2? seen = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (sender, certificate, chain, errors) =>
        {
            seen = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return AcceptTestCertificate(sender, certificate, chain, errors);
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName }, timeout.Token);
        return seen ?? throw new InvalidOperationException("The server presented no certificate.");
    }

    /// <summary>Polls new TLS connections until the presented certificate satisfies <paramref name="done"/> (10 s at most).</summary>
    public static async Task<string> WaitForThumbprintAsync(Uri endpoint, Func<string, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var thumbprint = (await PresentedCertificateAsync(endpoint)).Thumbprint;
            if (done(thumbprint))
                return thumbprint;
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new TimeoutException($"{what}: still presented {thumbprint} after 10 s.");
            await Task.Delay(100);
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms for at most 10 s.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new TimeoutException($"{what}: not within 10 s.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    private sealed class SeenByAppReporter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                // Read when the response starts: by then the app's middleware (forwarded headers) has run.
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers[SeenRemoteHeader] = context.Connection.RemoteIpAddress?.ToString();
                    context.Response.Headers[SeenSchemeHeader] = context.Request.Scheme;
                    return Task.CompletedTask;
                });
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>Self-signed test certificates written as PEM or PFX files in a temporary folder.</summary>
public sealed class TestCertificates : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("parley-https-").FullName;

    public string PathOf(string name) => Path.Combine(Directory, name);

    public static X509Certificate2 Create(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    /// <summary>Writes the certificate to <paramref name="certificateFile"/> and its key to <paramref name="keyFile"/> (PEM).</summary>
    public void WritePem(X509Certificate2 certificate, string certificateFile = "cert.pem", string keyFile = "key.pem")
    {
        File.WriteAllText(PathOf(keyFile), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(PathOf(certificateFile), certificate.ExportCertificatePem());
    }

    public void WritePfx(X509Certificate2 certificate, string password, string file = "cert.pfx") =>
        File.WriteAllBytes(PathOf(file), certificate.Export(X509ContentType.Pkcs12, password));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS.
        }
    }
}
