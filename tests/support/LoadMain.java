// Loads a class from the classpath `java -cp` was given and prints its annotations: proof that an executable jar's
// main class and what it is annotated with resolve from the jar's own classes and libraries.
// Usage: java -cp 'DIR/BOOT-INF/classes:DIR/BOOT-INF/lib/*' tests/support/LoadMain.java CLASS
public class LoadMain {
    public static void main(String[] args) throws Exception {
        Class<?> c = Class.forName(args[0], false, LoadMain.class.getClassLoader());
        c.getMethod("main", String[].class);
        // Linking the declared methods and annotations loads the types they name (Spring's among them).
        c.getDeclaredMethods();
        for (java.lang.annotation.Annotation a : c.getAnnotations()) System.out.println(a.annotationType().getName());
    }
}
