package dev.denoise.report;

import java.util.Locale;

/** Text helpers for the HTML page: escaping and number formats. */
final class Html {
    private Html() {
    }

    /**
     * Text made safe for element content and quoted attribute values alike: names and config
     * values come from users (a file name, a command-line flag) and must show as written, never
     * turn into markup.
     */
    static String escape(Object value) {
        String s = String.valueOf(value);
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }

    /**
     * A number with {@code decimals} places, always with a dot whatever the machine's locale, so
     * that reports from different machines read the same; a dash when the value is unknown.
     */
    static String number(double v, int decimals) {
        if (Double.isNaN(v)) {
            return "&ndash;";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "&infin;" : "&minus;&infin;";
        }
        return String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }
}
