import { isRouteErrorResponse, useRouteError } from 'react-router';
import { ErrorState } from '@/components/ui/states';

/** Last resort when a screen throws while rendering: say so, offer a reload, keep the shell. */
export function RouteError() {
  const error = useRouteError();
  console.error(error);
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : 'Unexpected error';
  return (
    <div className="mx-auto max-w-xl p-8">
      <ErrorState
        title="This page crashed"
        error={new Error(message)}
        onRetry={() => window.location.reload()}
      />
    </div>
  );
}
