import { Link } from 'react-router';
import { buttonClasses } from '@/components/ui/button';
import { EmptyState } from '@/components/ui/states';
import { paths } from '@/utils/paths';

export function NotFoundRoute() {
  return (
    <EmptyState
      title="Page not found"
      action={
        <Link to={paths.home} className={buttonClasses({})}>
          Back to the sales
        </Link>
      }
    >
      This page does not exist. The deals are this way.
    </EmptyState>
  );
}
