using Microsoft.Extensions.Options;

namespace Parley.Server.Admin;

/// <summary>The <c>Admin</c> section: the admin API (docs/operations.md, "Admin API").</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Shortest token accepted: 16 characters (a 32-byte random token in base64 has 44).</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// The bearer token the admin API requires. Empty (the default): the admin API is off and its paths answer 404.
    /// Never logged. Generate one with <c>openssl rand -base64 32</c>.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Wrong tokens a source (IP address) may send per <see cref="FailureWindow"/> before it gets 429. Default 10.</summary>
    public int MaxFailures { get; set; } = 10;

    /// <summary>The window <see cref="MaxFailures"/> counts in; a blocked source waits for it to end. Default 1 min.</summary>
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(1);

    public bool Enabled => !string.IsNullOrEmpty(Token);
}

internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        const string S = AdminOptions.SectionName;
        List<string> errors = [];
        if (options.Enabled && (options.Token!.Length < AdminOptions.MinTokenLength || options.Token.Any(char.IsWhiteSpace)))
            errors.Add($"{S}:Token is too short or has spaces; use at least {AdminOptions.MinTokenLength} characters, e.g. the output of 'openssl rand -base64 32' (or leave it empty to turn the admin API off).");
        if (options.MaxFailures < 1)
            errors.Add($"{S}:MaxFailures is {options.MaxFailures}; use a positive number such as 10.");
        if (options.FailureWindow < TimeSpan.FromSeconds(1) || options.FailureWindow > TimeSpan.FromDays(1))
            errors.Add($"{S}:FailureWindow is {options.FailureWindow}; use 00:00:01 to 1.00:00:00.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
