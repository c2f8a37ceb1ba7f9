using Microsoft.Playwright;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>Launches Debian's Chromium with the flags from shared/notes/browser-testing.md (each one is needed).</summary>
internal static class Chromium
{
    /// <summary>Override with PARLEY_CHROMIUM when Chromium lives elsewhere.</summary>
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("PARLEY_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static readonly string[] s_args =
    [
        // Fake camera and microphone; permission is granted (or not) per browser context, so that
        // the camera-denied test can see the real NotAllowedError.
        "--use-fake-device-for-media-stream",
        // Without it a loopback-only host offers zero ICE candidates and ICE silently stays 'new'.
        "--allow-loopback-in-peer-connection",
        // A second --disable-features replaces Playwright's own list, so every name is repeated here.
        "--disable-features=WebRtcHideLocalIpsWithMdns,OptimizationHints,NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch,MediaRouter",
        // The only thing that stops background DNS lookups; our own origin must stay reachable.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--disable-dev-shm-usage",
    ];

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // TURN over TLS (turns:) checks certificates itself, whatever the page's context allows: trust the tests' one.
            Args = [.. s_args, $"--ignore-certificate-errors-spki-list={LoopbackCertificate.SpkiSha256}"],
        });
}
