package dev.denoise.cli;

import dev.denoise.BadInputException;
import dev.denoise.backend.BackendUnavailableException;
import dev.denoise.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The denoise command line. Exit status: 0 done, 2 bad usage or bad input (one line on stderr),
 * 1 a failure while running (training diverged, I/O error); --debug adds the stack trace.
 */
@Command(name = "denoise", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Remove noise from images with autoencoders (dense, variational, convolutional), on CPUs and NVIDIA GPUs.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, DenoiseCommand.class, CompareCommand.class,
                GenerateCommand.class, InfoCommand.class, SpeedCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit status (for tests and embedding). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        // Parsing failed, so no parse result says whether --debug was given: look at the words.
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("denoise: " + oneLine(ex.getMessage()) + " (see denoise " + commandPath(ex.getCommandLine())
                    + "--help)");
            if (Arrays.asList(a).contains("--debug")) ex.printStackTrace(err);
            err.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            boolean debug = debug(parsed);
            int code;
            String msg;
            if (ex instanceof BadInputException || ex instanceof IllegalArgumentException
                    || ex instanceof BackendUnavailableException || ex instanceof CommandLine.ParameterException) {
                code = 2;
                msg = ex.getMessage();
            } else if (ex instanceof TrainingDivergedException) {
                code = 1;
                msg = ex.getMessage();
            } else if (ex instanceof UncheckedIOException u) {
                code = 1;
                msg = u.getCause().getMessage();
            } else {
                code = 1;
                msg = ex.toString();
            }
            err.println("denoise: " + oneLine(msg));
            if (debug) ex.printStackTrace(err);
            err.flush();
            return code;
        });
        return cl.execute(args);
    }

    /** Whether --debug was given: it belongs to the subcommands, so the top-level result alone does not know. */
    private static boolean debug(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) return true;
        }
        return false;
    }

    private static String commandPath(CommandLine cl) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cl; c.getParent() != null; c = c.getParent()) sb.insert(0, c.getCommandName() + " ");
        return sb.toString();
    }

    static String oneLine(String s) {
        if (s == null) return "unknown error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"denoise " + (v == null ? "0.1.0" : v)};
        }
    }
}
