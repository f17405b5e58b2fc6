import { useState } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { Badge } from '@/components/ui/badge';
import { useCurrentUser } from '@/features/auth/api/get-me';
import { useLogout } from '@/features/auth/hooks/use-logout';
import { useCartCount } from '@/store/cart-store';
import { useIsSignedIn } from '@/store/session-store';
import { cn } from '@/utils/cn';
import { paths } from '@/utils/paths';

function Logo() {
  return (
    <Link to={paths.home} className="flex items-center gap-2 font-extrabold tracking-tight">
      <span className="flex size-8 items-center justify-center rounded-lg bg-primary text-primary-foreground">
        <svg viewBox="0 0 24 24" className="size-5" fill="currentColor" aria-hidden>
          <path d="M13.5 2 4 14h6.5L9 22l10-12.5h-6.6L13.5 2Z" />
        </svg>
      </span>
      <span className="text-lg">Stampede</span>
    </Link>
  );
}

const navLink = ({ isActive }: { isActive: boolean }) =>
  cn(
    'rounded-md px-3 py-2 text-sm font-medium transition-colors',
    isActive ? 'bg-muted text-foreground' : 'text-muted-foreground hover:text-foreground',
  );

export function AppLayout() {
  const isSignedIn = useIsSignedIn();
  // Asks the server who a token restored from sessionStorage belongs to; a 401 signs out through
  // the interceptor. Until it answers, the header shows a signed-in visitor without a name.
  const user = useCurrentUser();
  const cartCount = useCartCount();
  const logout = useLogout();
  const navigate = useNavigate();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const isAdmin = user?.role === 'admin';

  const signOut = () => {
    logout();
    setMenuOpen(false);
    void navigate(paths.home);
  };

  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:z-50 focus:rounded-md focus:bg-card focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-40 border-b border-border bg-card/90 backdrop-blur">
        <div className="mx-auto flex h-16 max-w-7xl items-center gap-4 px-4 sm:px-6">
          <Logo />
          <nav aria-label="Main" className="hidden items-center gap-1 md:flex">
            <NavLink to={paths.home} end className={navLink}>
              Sales
            </NavLink>
            {isSignedIn && (
              <NavLink to={paths.orders} className={navLink}>
                My orders
              </NavLink>
            )}
            {isAdmin && (
              <NavLink to={paths.admin.root} className={navLink}>
                Console
              </NavLink>
            )}
          </nav>
          <div className="ml-auto flex items-center gap-2">
            <NavLink
              to={paths.cart}
              className={({ isActive }) =>
                cn(
                  'relative flex items-center gap-2 rounded-lg px-3 py-2 text-sm font-semibold',
                  isActive ? 'bg-muted' : 'hover:bg-muted',
                )
              }
              aria-label={`Cart, ${cartCount} item${cartCount === 1 ? '' : 's'}`}
            >
              <svg viewBox="0 0 24 24" className="size-5" fill="none" aria-hidden>
                <path
                  d="M3 4h2l2.4 11.2a2 2 0 0 0 2 1.6h7.7a2 2 0 0 0 2-1.5L21 8H6.2"
                  stroke="currentColor"
                  strokeWidth="1.8"
                  strokeLinecap="round"
                  strokeLinejoin="round"
                />
                <circle cx="10" cy="20" r="1.4" fill="currentColor" />
                <circle cx="17" cy="20" r="1.4" fill="currentColor" />
              </svg>
              <span className="hidden sm:inline">Cart</span>
              {cartCount > 0 && (
                <span
                  className="tabular min-w-5 rounded-full bg-primary px-1.5 text-center text-xs text-primary-foreground"
                  data-testid="cart-count"
                >
                  {cartCount}
                </span>
              )}
            </NavLink>
            {isSignedIn ? (
              <div className="hidden items-center gap-3 md:flex">
                <span className="text-sm text-muted-foreground">
                  {user?.name}
                  {isAdmin && (
                    <Badge tone="dark" className="ml-2">
                      admin
                    </Badge>
                  )}
                </span>
                <button
                  type="button"
                  onClick={signOut}
                  className="rounded-md px-3 py-2 text-sm font-medium text-muted-foreground hover:bg-muted hover:text-foreground"
                >
                  Sign out
                </button>
              </div>
            ) : (
              <div className="hidden items-center gap-2 md:flex">
                <Link
                  to={paths.login(location.pathname)}
                  className="rounded-md px-3 py-2 text-sm font-medium hover:bg-muted"
                >
                  Sign in
                </Link>
                <Link
                  to={paths.register(location.pathname)}
                  className="rounded-lg bg-secondary px-3 py-2 text-sm font-semibold text-secondary-foreground hover:bg-secondary-hover"
                >
                  Create account
                </Link>
              </div>
            )}
            <button
              type="button"
              className="rounded-md p-2 hover:bg-muted md:hidden"
              aria-expanded={menuOpen}
              aria-controls="mobile-menu"
              onClick={() => setMenuOpen((open) => !open)}
            >
              <span className="sr-only">Menu</span>
              <svg viewBox="0 0 24 24" className="size-6" fill="none" aria-hidden>
                <path
                  d="M4 7h16M4 12h16M4 17h16"
                  stroke="currentColor"
                  strokeWidth="2"
                  strokeLinecap="round"
                />
              </svg>
            </button>
          </div>
        </div>
        {menuOpen && (
          <nav
            id="mobile-menu"
            aria-label="Mobile"
            className="border-t border-border px-4 py-3 md:hidden"
          >
            <ul className="flex flex-col gap-1" onClick={() => setMenuOpen(false)}>
              <li>
                <NavLink to={paths.home} end className={navLink}>
                  Sales
                </NavLink>
              </li>
              {isSignedIn && (
                <li>
                  <NavLink to={paths.orders} className={navLink}>
                    My orders
                  </NavLink>
                </li>
              )}
              {isAdmin && (
                <li>
                  <NavLink to={paths.admin.root} className={navLink}>
                    Console
                  </NavLink>
                </li>
              )}
              {isSignedIn ? (
                <li>
                  <button type="button" onClick={signOut} className={navLink({ isActive: false })}>
                    Sign out{user && ` (${user.name})`}
                  </button>
                </li>
              ) : (
                <>
                  <li>
                    <NavLink to={paths.login(location.pathname)} className={navLink}>
                      Sign in
                    </NavLink>
                  </li>
                  <li>
                    <NavLink to={paths.register(location.pathname)} className={navLink}>
                      Create account
                    </NavLink>
                  </li>
                </>
              )}
            </ul>
          </nav>
        )}
      </header>
      <main id="main" className="mx-auto w-full max-w-7xl flex-1 px-4 py-8 sm:px-6">
        <Outlet />
      </main>
      <footer className="border-t border-border bg-card">
        <div className="mx-auto flex max-w-7xl flex-col gap-2 px-4 py-6 text-xs text-muted-foreground sm:flex-row sm:justify-between sm:px-6">
          <p>© Stampede. Limited units, fair for everyone: one gate, no oversells.</p>
          <p>Times shown follow the shop&apos;s clock.</p>
        </div>
      </footer>
    </div>
  );
}
