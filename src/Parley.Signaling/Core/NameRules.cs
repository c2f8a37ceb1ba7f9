using System.Globalization;
using System.Text;

namespace Parley.Signaling;

/// <summary>What a room name and a display name may contain.</summary>
public static class NameRules
{
    /// <summary>1–64 letters or digits of any script, '-', '_' or '.', not starting with '.'; safe in a URL path segment.</summary>
    public static bool IsValidRoom(string? room)
    {
        if (string.IsNullOrEmpty(room) || room.Length > SignalingOptions.MaxRoomNameLength || room[0] == '.')
            return false;
        foreach (var rune in room.EnumerateRunes())
        {
            if (!(Rune.IsLetterOrDigit(rune) || rune.Value is '-' or '_' or '.'))
                return false;
        }
        return true;
    }

    /// <summary>Trims; valid when 1–64 characters remain and none is a control, format or separator-other character.</summary>
    public static bool TryNormalizeName(string? name, out string normalized)
    {
        normalized = name?.Trim() ?? "";
        if (normalized.Length is 0 or > SignalingOptions.MaxNameLength)
            return false;
        foreach (var rune in normalized.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned)
                return false;
        }
        return true;
    }
}
