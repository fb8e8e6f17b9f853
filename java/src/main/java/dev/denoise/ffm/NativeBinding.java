package dev.denoise.ffm;

import dev.denoise.backend.BackendUnavailableException;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One native library bound through FFM, the part that {@link DenoiseNative}, {@link Cublas} and
 * {@link Cudnn} share: opening it once (a failure is kept as the reason, never thrown from a static
 * initialiser), looking up each symbol into a downcall handle, and one way to rethrow what a downcall
 * throws.
 *
 * <p>A symbol the library lacks (a stale or too old build) is recorded and its handle throws, when
 * called, a {@link BackendUnavailableException} naming the library and the symbol; {@link #require()}
 * names every missing symbol at once, so a binding can refuse to start before any call.
 */
public final class NativeBinding {
    private final String library;
    private final SymbolLookup lookup; // null when the library could not be opened
    private final BackendUnavailableException unavailable;
    private final String hint;
    private final List<String> missing = new ArrayList<>();

    private NativeBinding(String library, SymbolLookup lookup, BackendUnavailableException unavailable, String hint) {
        this.library = library;
        this.lookup = lookup;
        this.unavailable = unavailable;
        this.hint = hint;
    }

    /**
     * Opens a library now; a {@link BackendUnavailableException} from opener becomes the binding's
     * reason. library names it in messages; hint (or null) is added to the missing-symbols one.
     */
    public static NativeBinding open(String library, Supplier<SymbolLookup> opener, String hint) {
        try {
            return new NativeBinding(library, opener.get(), null, hint);
        } catch (BackendUnavailableException e) {
            return new NativeBinding(library, null, e, hint);
        }
    }

    /** A downcall to symbol returning ret (null: void). */
    public MethodHandle function(String symbol, MemoryLayout ret, MemoryLayout... args) {
        FunctionDescriptor fd = ret == null ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(ret, args);
        var address = lookup == null ? null : lookup.find(symbol).orElse(null);
        if (address != null) return Linker.nativeLinker().downcallHandle(address, fd);
        if (lookup != null) missing.add(symbol);
        return thrower(fd.toMethodType(), lookup == null ? unavailable()
                : new BackendUnavailableException(library + " has no symbol " + symbol + hintSuffix()));
    }

    /** A downcall to symbol returning an int status, as every op of denoise.h, cuBLAS and cuDNN do. */
    public MethodHandle status(String symbol, MemoryLayout... args) {
        return function(symbol, JAVA_INT, args);
    }

    /** Throws the one-line reason the library cannot be used: not opened, or symbols missing. */
    public void require() {
        if (lookup == null) throw unavailable();
        if (!missing.isEmpty()) throw new BackendUnavailableException(library + " lacks " + missing + hintSuffix());
    }

    public boolean available() {
        return lookup != null && missing.isEmpty();
    }

    private BackendUnavailableException unavailable() {
        return new BackendUnavailableException(unavailable.getMessage(), unavailable);
    }

    private String hintSuffix() {
        return hint == null ? "" : " (" + hint + ")";
    }

    /** A handle of type that throws e, so a missing symbol fails with its name instead of a NullPointerException. */
    private static MethodHandle thrower(MethodType type, RuntimeException e) {
        MethodHandle thrower = MethodHandles.throwException(type.returnType(), RuntimeException.class);
        return MethodHandles.dropArguments(MethodHandles.insertArguments(thrower, 0, e), 0, type.parameterList());
    }

    /**
     * What a wrapper's catch turns a downcall's Throwable into: runtime exceptions and errors pass
     * unchanged (invokeExact declares Throwable, but a downcall throws nothing checked).
     */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
