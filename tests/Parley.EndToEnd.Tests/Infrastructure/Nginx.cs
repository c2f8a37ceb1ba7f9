using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// Debian's nginx in front of Parley, with the site from <c>deploy/nginx/parley.conf</c> (the one docs/operations.md
/// shows) and only its host, ports and certificate paths substituted. Everything nginx writes (pid, logs, temp files)
/// lives in a temporary folder; it runs in the foreground as a child process and is killed by PID on dispose.
/// </summary>
internal sealed class Nginx : IAsyncDisposable
{
    private static readonly string[] s_paths = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

    private readonly Process _process;
    private readonly string _directory;
    private readonly List<string> _output = [];

    private Nginx(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        BaseUri = new Uri($"https://127.0.0.1:{port}/");
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
    }

    /// <summary>The site's HTTPS root, e.g. https://127.0.0.1:41234/.</summary>
    public Uri BaseUri { get; }

    /// <summary>The access log so far: which requests went through nginx, with their status.</summary>
    public string AccessLog => ReadShared(Path.Combine(_directory, "access.log"));

    /// <summary>nginx's output and error log, for a failed test.</summary>
    public string Diagnostics
    {
        get
        {
            lock (_output)
                return string.Join(" | ", _output) + " | error.log: " + ReadShared(Path.Combine(_directory, "error.log"));
        }
    }

    /// <summary>The site configuration as committed, which docs/operations.md shows verbatim.</summary>
    public static string SiteTemplatePath => Path.Combine(RepositoryRoot.Find(), "deploy", "nginx", "parley.conf");

    public static async Task<Nginx> StartAsync(int parleyPort)
    {
        var nginx = s_paths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: apt-get install -y nginx-light");
        var directory = Directory.CreateTempSubdirectory("parley-nginx-").FullName;
        var tlsPort = FreePort();
        var httpPort = FreePort();

        // A self-signed certificate for 127.0.0.1; the browser contexts ignore certificate errors.
        var (certificatePath, keyPath) = await LoopbackCertificate.WritePemAsync(directory);

        var site = await File.ReadAllTextAsync(SiteTemplatePath);
        site = Substitute(site, "server 127.0.0.1:8080;", $"server 127.0.0.1:{parleyPort};");
        site = Substitute(site, "listen 80;", $"listen 127.0.0.1:{httpPort};");
        site = Substitute(site, "listen 443 ssl;", $"listen 127.0.0.1:{tlsPort} ssl;");
        site = Substitute(site, "/etc/letsencrypt/live/parley.example.org/fullchain.pem", certificatePath);
        site = Substitute(site, "/etc/letsencrypt/live/parley.example.org/privkey.pem", keyPath);
        await File.WriteAllTextAsync(Path.Combine(directory, "parley.conf"), site);

        // The main file a distribution would provide, pointing every path into the temporary folder.
        var config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            {{(Environment.IsPrivilegedProcess ? "user root;" : "")}}
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 256; }
            http {
                access_log {{directory}}/access.log;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                include {{directory}}/parley.conf;
            }

            """);

        var process = Process.Start(new ProcessStartInfo(nginx, ["-p", directory, "-c", config, "-e", Path.Combine(directory, "error.log")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        }) ?? throw new InvalidOperationException("nginx did not start");
        var started = new Nginx(process, directory, tlsPort);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.WaitUntilListeningAsync(tlsPort, TimeSpan.FromSeconds(10));
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }
        return started;
    }

    public ValueTask DisposeAsync() => ChildProcess.StopAsync(_process, _directory);

    private static string Substitute(string site, string placeholder, string value) =>
        site.Contains(placeholder, StringComparison.Ordinal)
            ? site.Replace(placeholder, value, StringComparison.Ordinal)
            : throw new InvalidOperationException($"deploy/nginx/parley.conf no longer contains '{placeholder}': update Nginx.cs with it.");

    private async Task WaitUntilListeningAsync(int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"nginx exited with {_process.ExitCode}: {Diagnostics}");
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(1));
                return;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"nginx did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds:0} s: {Diagnostics}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string ReadShared(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private void Record(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Add(line);
    }
}
